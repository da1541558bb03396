// A status report: the cluster's sync state and health, and a full snapshot of its apps and
// objects. Status for an older generation never counts for a newer one: the stored status is only
// replaced by one with a higher generation, or the same generation and a later time.
import type { Transaction } from "kysely";
import { SyncState, refKey, type ObjectStatus, type StatusReport } from "@flotilla/model";
import type { FleetSchema } from "../schema.js";
import { reportTimestamp } from "../timestamps.js";
import { chunks, dedupe } from "./rows.js";
import type { WriteOutcome } from "./write-outcome.js";

export async function writeStatus(trx: Transaction<FleetSchema>, report: StatusReport): Promise<WriteOutcome> {
  const at = reportTimestamp(report.at, "at");
  const written = await trx
    .insertInto("cluster_status")
    .values({
      cluster: report.cluster,
      generation: report.generation,
      revision: report.revision,
      bundle_digest: report.bundleDigest,
      observed_revision: report.observedRevision ?? null,
      sync_state: report.syncState,
      health: report.health,
      last_error: report.lastError ? JSON.stringify(report.lastError) : null,
      reported_at: at,
      agent: report.agent,
    })
    .onConflict((oc) =>
      oc
        .column("cluster")
        .doUpdateSet((eb) => ({
          generation: eb.ref("excluded.generation"),
          revision: eb.ref("excluded.revision"),
          bundle_digest: eb.ref("excluded.bundle_digest"),
          observed_revision: eb.ref("excluded.observed_revision"),
          sync_state: eb.ref("excluded.sync_state"),
          health: eb.ref("excluded.health"),
          last_error: eb.ref("excluded.last_error"),
          reported_at: eb.ref("excluded.reported_at"),
          agent: eb.ref("excluded.agent"),
        }))
        .where((eb) =>
          eb.or([
            eb("cluster_status.generation", "<", eb.ref("excluded.generation")),
            eb.and([
              eb("cluster_status.generation", "=", eb.ref("excluded.generation")),
              eb("cluster_status.reported_at", "<=", eb.ref("excluded.reported_at")),
            ]),
          ]),
        ),
    )
    .returning("cluster")
    .executeTakeFirst();
  if (!written) return "stale";

  await trx.deleteFrom("app_status").where("cluster", "=", report.cluster).execute();
  await trx.deleteFrom("object_status").where("cluster", "=", report.cluster).execute();
  const apps = dedupe(report.apps, (a) => a.name);
  if (apps.length > 0) {
    await trx
      .insertInto("app_status")
      .values(apps.map((a) => ({ cluster: report.cluster, app: a.name, health: a.health, generation: report.generation, updated_at: at })))
      .execute();
  }
  const objects = dedupe(
    report.apps.flatMap((a) => a.objects.map((o) => ({ app: a.name, o }))),
    ({ o }) => refKey(o.ref),
  );
  for (const chunk of chunks(objects, OBJECT_ROWS_PER_INSERT)) {
    await trx
      .insertInto("object_status")
      .values(chunk.map(({ app, o }) => objectRow(report, app, o, at)))
      .execute();
  }

  // Synced at a newer generation: the agent applied a new bundle (server-side apply with force),
  // which re-asserted every field it owns, so drift found under an older generation is gone.
  // Synced at the same generation says nothing about drift: a drift left in place by policy
  // (warn, observe) does not stop an agent from reporting Synced.
  if (report.syncState === SyncState.Synced) {
    await trx
      .updateTable("drift_events")
      .set({ resolved_at: at })
      .where("cluster", "=", report.cluster)
      .where("resolved_at", "is", null)
      .where("generation", "<", report.generation)
      .where("detected_at", "<=", new Date(at))
      .execute();
  }
  return "ingested";
}

// 14 columns per row: 1,000 rows stay far below Postgres' 65,535 bind parameters.
const OBJECT_ROWS_PER_INSERT = 1000;

function objectRow(report: StatusReport, app: string, o: ObjectStatus, at: string) {
  return {
    cluster: report.cluster,
    app,
    group: o.ref.group,
    kind: o.ref.kind,
    namespace: o.ref.namespace,
    name: o.ref.name,
    action: o.action,
    reason: o.reason,
    message: o.message ?? null,
    health: o.health,
    health_reason: o.healthReason ?? null,
    images: JSON.stringify(o.images ?? []),
    generation: report.generation,
    updated_at: at,
  };
}
