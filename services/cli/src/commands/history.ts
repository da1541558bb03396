// `flotilla history CLUSTER`: every desired pointer the cluster was issued, newest first
// (GET /v1/clusters/:name/pointers): generation, revision, bundle, when, and the commit.
import { positionals, runApi, withApiFlags } from "../client/command.js";
import { firstLine, person, printData, shortDigest, shortRev, table } from "../client/output.js";
import { when } from "./drift.js";

export const historyCommand = withApiFlags({
  name: "history",
  summary: "Show the desired pointers a cluster was issued, newest first.",
  usage: "flotilla history CLUSTER [--limit N] [--before GENERATION] [-o table|json|yaml]",
  flags: [
    { name: "limit", type: "string", description: "how many pointers, 1 to 1000 (default 100)" },
    { name: "before", type: "string", description: "only generations below this one (the next page)" },
  ],
});

export interface PointersBody {
  cluster: string;
  pointers: { cluster: string; generation: number; revision: string; bundleDigest: string; issuedAt: string; commit?: { author: string; message: string } }[];
}

export function historyTable(b: PointersBody): string {
  return table(
    ["GEN", "REVISION", "BUNDLE", "ISSUED", "AUTHOR", "SUBJECT"],
    b.pointers.map((p) => [p.generation, shortRev(p.revision), shortDigest(p.bundleDigest), when(p.issuedAt), person(p.commit?.author), firstLine(p.commit?.message) || "-"]),
  );
}

export function runHistory(argv: string[]): Promise<number> {
  return runApi(historyCommand, argv, async (inv) => {
    const [cluster] = positionals(inv, ["CLUSTER"]) as [string];
    const b = await inv.client().get<PointersBody>(`/v1/clusters/${encodeURIComponent(cluster)}/pointers`, { limit: inv.str("limit"), before: inv.str("before") });
    if (!printData(inv.format, b)) console.log(b.pointers.length ? historyTable(b) : `No pointers issued to ${cluster} yet.`);
    return 0;
  });
}
