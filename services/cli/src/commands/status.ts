// `flotilla status [CLUSTER] [--matrix]`: the fleet at a glance (GET /v1/clusters), one cluster in
// detail (GET /v1/clusters/:name), or environment × cluster × app (GET /v1/fleet/matrix).
import type { ClusterDetailBody, ClusterSummaryBody } from "@flotilla/hub";
import { UsageError } from "../args.js";
import { positionals, runApi, withApiFlags } from "../client/command.js";
import { age, dash, fields, firstLine, labels, person, shortDigest, shortRev, table } from "../client/output.js";
import { printData } from "../client/output.js";

export const statusCommand = withApiFlags({
  name: "status",
  summary: "Show the fleet's clusters, one cluster in detail, or the environment × cluster × app matrix.",
  usage: "flotilla status [CLUSTER] [--matrix] [-o table|json|yaml]",
  flags: [{ name: "matrix", type: "boolean", description: "environment × cluster × app at the last resolved revision (GET /v1/fleet/matrix)" }],
});

export interface MatrixBody {
  revision: string | null;
  environments: {
    name: string;
    clusters: {
      name: string;
      syncState: string;
      health: string;
      desired: { revision: string; generation: number } | null;
      lastHeartbeat: string | null;
      openDriftCount: number;
      apps: { name: string; health: string; release: string | null }[];
    }[];
  }[];
}

export function clustersTable(clusters: ClusterSummaryBody[], now = Date.now()): string {
  return table(
    ["NAME", "ENVIRONMENT", "SYNC", "HEALTH", "REVISION", "GEN", "OBSERVED", "DRIFT", "HEARTBEAT"],
    clusters.map((c) => [c.name, c.environment, c.syncState, c.health, shortRev(c.desired?.revision), dash(c.desired?.generation), shortRev(c.observedRevision), c.openDriftCount, age(c.lastHeartbeat, now)]),
  );
}

export function clusterDetailText(c: ClusterDetailBody, now = Date.now()): string {
  const d = c.desired;
  const out = [
    fields([
      ["Cluster", c.name],
      ["Environment", c.environment],
      ["Labels", labels(c.labels)],
      ["Namespaces", c.namespaces ? c.namespaces.join(",") : "(cluster-wide)"],
      ["Sync", c.syncState],
      ["Health", c.health],
      ["Desired", d ? `${shortRev(d.revision)} generation ${d.generation}, bundle ${shortDigest(d.bundleDigest)}, issued ${age(d.issuedAt, now)}` : "- (no pointer yet)"],
      ["Commit", d?.commit ? `${person(d.commit.author)}: ${firstLine(d.commit.message)}` : "-"],
      ["Observed", shortRev(c.observedRevision)],
      ["Reported", c.reported ? `${c.reported.syncState}/${c.reported.health} at generation ${c.reported.generation}, ${age(c.reported.reportedAt, now)} by ${c.reported.agent}` : "never"],
      ["Heartbeat", c.heartbeat ? `${age(c.heartbeat.at, now)} (deadline ${c.heartbeat.deadlineSeconds}s) from ${c.heartbeat.agent}` : "never"],
      ["Open drift", String(c.openDriftCount)],
      ["Last error", c.lastError ? `${c.lastError.code}: ${c.lastError.message}` : "-"],
    ]),
  ];
  if (c.apps.length) {
    out.push("", table(["APP", "HEALTH", "GEN", "OBJECTS", "UPDATED"], c.apps.map((a) => [a.name, a.health, a.generation, a.objects.length, age(a.updatedAt, now)])));
    const objects = c.apps.flatMap((a) => a.objects.map((o) => ({ app: a.name, ...o })));
    if (objects.length) {
      out.push(
        "",
        table(
          ["APP", "KIND", "NAMESPACE", "NAME", "ACTION", "HEALTH", "IMAGES"],
          objects.map((o) => [o.app, o.group ? `${o.kind}.${o.group}` : o.kind, dash(o.namespace), o.name, o.action, o.health ?? "-", o.images.length ? o.images.join(",") : "-"]),
        ),
      );
    }
  } else {
    out.push("", "No apps reported yet.");
  }
  return out.join("\n");
}

export function matrixTable(m: MatrixBody, now = Date.now()): string {
  const rows = m.environments.flatMap((e) =>
    e.clusters.map((c) => [
      e.name,
      c.name,
      c.syncState,
      c.health,
      shortRev(c.desired?.revision),
      c.openDriftCount,
      age(c.lastHeartbeat, now),
      c.apps.map((a) => `${a.name}=${a.health}${a.release ? `@${a.release}` : ""}`).join(" ") || "-",
    ]),
  );
  return `Revision: ${shortRev(m.revision)}\n${table(["ENVIRONMENT", "CLUSTER", "SYNC", "HEALTH", "REVISION", "DRIFT", "HEARTBEAT", "APPS"], rows)}`;
}

export function runStatus(argv: string[]): Promise<number> {
  return runApi(statusCommand, argv, async (inv) => {
    const [cluster] = positionals(inv, ["CLUSTER"], { optional: 1 });
    if (cluster && inv.bool("matrix")) throw new UsageError("flotilla status: --matrix shows the whole fleet; give no CLUSTER with it");
    if (inv.bool("matrix")) {
      const m = await inv.client().get<MatrixBody>("/v1/fleet/matrix");
      if (!printData(inv.format, m)) console.log(matrixTable(m));
    } else if (cluster) {
      const c = await inv.client().get<ClusterDetailBody>(`/v1/clusters/${encodeURIComponent(cluster)}`);
      if (!printData(inv.format, c)) console.log(clusterDetailText(c));
    } else {
      const list = await inv.client().get<ClusterSummaryBody[]>("/v1/clusters");
      if (!printData(inv.format, list)) console.log(list.length ? clustersTable(list) : "No clusters in the fleet.");
    }
    return 0;
  });
}
