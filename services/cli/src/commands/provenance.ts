// `flotilla provenance --app A [--cluster C] [--kind K --namespace N --name X]`: what runs where and
// why (GET /v1/provenance): per cluster the revision, its commit, the agent, the release that
// pinned it; per object its images, last action and applied-at.
import { positionals, runApi, withApiFlags } from "../client/command.js";
import { UsageError } from "../args.js";
import { age, dash, person, printData, shortRev, table } from "../client/output.js";
import { objectName } from "./drift.js";

export const provenanceCommand = withApiFlags({
  name: "provenance",
  summary: "Show, per cluster running an app, the revision, commit author, agent, pinning release and each object's images.",
  usage: "flotilla provenance --app APP [--cluster C] [--kind K] [--namespace N] [--name X] [-o table|json|yaml]",
  flags: [
    { name: "app", type: "string", description: "the app (or give it as the argument)" },
    { name: "cluster", type: "string", description: "only this cluster" },
    { name: "kind", type: "string", description: "only objects of this kind" },
    { name: "namespace", type: "string", description: "only objects in this namespace" },
    { name: "name", type: "string", description: "only objects of this name" },
  ],
});

export interface ProvenanceBody {
  app: string;
  clusters: {
    cluster: string;
    environment: string;
    revision: string | null;
    generation: number | null;
    commit: { author: string; message: string } | null;
    agent: string | null;
    reportedAt: string | null;
    syncState: string;
    health: string;
    pinnedBy: { release: string; promotion: string } | null;
    objects: { kind: string; namespace: string; name: string; images: string[]; action: string; appliedAt: string; generation: number; health: string | null }[];
  }[];
}

export function provenanceText(b: ProvenanceBody, now = Date.now()): string {
  const clusters = table(
    ["CLUSTER", "ENVIRONMENT", "REVISION", "GEN", "AUTHOR", "SYNC", "HEALTH", "RELEASE", "PROMOTION", "AGENT", "REPORTED"],
    b.clusters.map((c) => [c.cluster, c.environment, shortRev(c.revision), dash(c.generation), person(c.commit?.author), c.syncState, c.health, dash(c.pinnedBy?.release), dash(c.pinnedBy?.promotion), dash(c.agent), age(c.reportedAt, now)]),
  );
  const objects = b.clusters.flatMap((c) => c.objects.map((o) => [c.cluster, objectName(o), o.action, dash(o.health), o.generation, age(o.appliedAt, now), o.images.join(",") || "-"]));
  return objects.length ? `${clusters}\n\n${table(["CLUSTER", "OBJECT", "ACTION", "HEALTH", "GEN", "APPLIED", "IMAGES"], objects)}` : clusters;
}

export function runProvenance(argv: string[]): Promise<number> {
  return runApi(provenanceCommand, argv, async (inv) => {
    const [positional] = positionals(inv, ["APP"], { optional: 1 });
    if (positional && inv.str("app") && positional !== inv.str("app")) throw new UsageError(`flotilla provenance: two apps given ("${positional}" and --app ${inv.str("app")})`);
    const app = positional ?? inv.str("app");
    if (!app) throw new UsageError(`flotilla provenance: --app is required: the app whose provenance to show\nUsage: ${provenanceCommand.usage}`);
    const b = await inv.client().get<ProvenanceBody>("/v1/provenance", { app, cluster: inv.str("cluster"), kind: inv.str("kind"), namespace: inv.str("namespace"), name: inv.str("name") });
    if (!printData(inv.format, b)) console.log(b.clusters.length ? provenanceText(b) : `No cluster runs ${app}.`);
    return 0;
  });
}
