// `flotilla explain --cluster C --app A [--revision R]`: why a cluster is (not) running an app at a
// revision (GET /v1/explain), one finding per line; the evidence rows come with -o json/yaml.
import type { ExplainFinding } from "@flotilla/model";
import { positionals, requireFlag, runApi, withApiFlags } from "../client/command.js";
import { printData, shortRev, table } from "../client/output.js";

export const explainCommand = withApiFlags({
  name: "explain",
  summary: "Explain why a cluster is (not) running an app at a revision (default: the last one the hub resolved).",
  usage: "flotilla explain --cluster CLUSTER --app APP [--revision SHA] [-o table|json|yaml]",
  flags: [
    { name: "cluster", type: "string", description: "the cluster" },
    { name: "app", type: "string", description: "the app" },
    { name: "revision", type: "string", description: "a full 40-hex commit of the env repo (default: the last revision the hub resolved)" },
  ],
});

export interface ExplainBody {
  cluster: string;
  app: string;
  revision: string;
  atRevision: boolean;
  findings: ExplainFinding[];
}

export function explainText(e: ExplainBody): string {
  const head = `${e.app} on ${e.cluster} at ${shortRev(e.revision)}: ${e.atRevision ? "running it" : "not running it"}`;
  if (!e.findings.length) return head;
  return `${head}\n\n${table(["REASON", "MESSAGE"], e.findings.map((f) => [f.reason, f.message]))}`;
}

export function runExplain(argv: string[]): Promise<number> {
  return runApi(explainCommand, argv, async (inv) => {
    positionals(inv, []);
    const cluster = requireFlag(inv, "cluster", "the cluster to explain");
    const app = requireFlag(inv, "app", "the app to explain");
    const e = await inv.client().get<ExplainBody>("/v1/explain", { cluster, app, revision: inv.str("revision") });
    if (!printData(inv.format, e)) console.log(explainText(e));
    return 0;
  });
}
