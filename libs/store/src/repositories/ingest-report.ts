// Writes one agent report in one transaction, exactly once per message id.
//
// - The message id goes into ingested_messages first: a redelivered message (the hub died after
//   commit, before ack) finds it there and changes nothing.
// - Status for an older generation never counts for a newer one: a status report only replaces
//   the stored one when its generation is higher, or equal and not older.
// - A status report is a full snapshot of the cluster's apps and objects: it replaces them.
import { sql, type Kysely, type Transaction } from "kysely";
import {
  DriftAction,
  SyncState,
  refKey,
  type DriftReport,
  type HeartbeatReport,
  type ObjectStatus,
  type Report,
  type StatusReport,
} from "@flotilla/model";
import type { FleetSchema } from "../schema.js";
import { reportTimestamp } from "../timestamps.js";

export interface IngestMeta {
  /** JetStream message id (Nats-Msg-Id), the de-duplication key. */
  messageId: string;
  subject: string;
  streamSeq: number;
}

/** `stale`: a status report for an older generation (or older than the stored one): recorded as
 * ingested, changes nothing. */
export type IngestOutcome = "ingested" | "duplicate" | "stale";

export async function ingestReport(db: Kysely<FleetSchema>, report: Report, meta: IngestMeta): Promise<IngestOutcome> {
  return db.transaction().execute(async (trx) => {
    const first = await trx
      .insertInto("ingested_messages")
      .values({ message_id: meta.messageId, subject: meta.subject, stream_seq: meta.streamSeq })
      .onConflict((oc) => oc.column("message_id").doNothing())
      .returning("message_id")
      .executeTakeFirst();
    if (!first) return "duplicate";
    switch (report.kind) {
      case "status":
        return writeStatus(trx, report);
      case "drift":
        return writeDrift(trx, report);
      case "heartbeat":
        return writeHeartbeat(trx, report);
    }
  });
}

async function writeStatus(trx: Transaction<FleetSchema>, report: StatusReport): Promise<IngestOutcome> {
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

  // Synced means live state matches desired: the drift recorded before this report is gone.
  if (report.syncState === SyncState.Synced) {
    await trx
      .updateTable("drift_events")
      .set({ resolved_at: at })
      .where("cluster", "=", report.cluster)
      .where("resolved_at", "is", null)
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

async function writeDrift(trx: Transaction<FleetSchema>, report: DriftReport): Promise<IngestOutcome> {
  const detectedAt = reportTimestamp(report.at, "at");
  const changedAt = report.changedAt === undefined ? null : reportTimestamp(report.changedAt, "changedAt");
  const { group, kind, namespace, name } = report.object;
  // A newer drift event of the same object supersedes the open older ones.
  await trx
    .updateTable("drift_events")
    .set({ resolved_at: detectedAt })
    .where("cluster", "=", report.cluster)
    .where("group", "=", group)
    .where("kind", "=", kind)
    .where("namespace", "=", namespace)
    .where("name", "=", name)
    .where("resolved_at", "is", null)
    .where("detected_at", "<", new Date(detectedAt))
    .execute();
  await trx
    .insertInto("drift_events")
    .values({
      id: report.id,
      cluster: report.cluster,
      app: report.app,
      generation: report.generation,
      revision: report.revision,
      group,
      kind,
      namespace,
      name,
      paths: JSON.stringify(report.paths),
      actor: report.actor,
      changed_at: changedAt,
      detected_at: detectedAt,
      policy: report.policy,
      action: report.action,
      agent: report.agent,
      resolved_at: await driftResolvedAt(trx, report, detectedAt),
    })
    .onConflict((oc) => oc.column("id").doNothing())
    .execute();
  return "ingested";
}

/**
 * When a drift event being written is already over: a reverted drift when it is reported; one
 * arriving late (redelivered) when a newer drift of the same object or a later Synced status is
 * already stored. Otherwise null: it is open.
 */
async function driftResolvedAt(trx: Transaction<FleetSchema>, report: DriftReport, detectedAt: string): Promise<Date | string | null> {
  if (report.action === DriftAction.Reverted) return detectedAt;
  const { group, kind, namespace, name } = report.object;
  const newer = await trx
    .selectFrom("drift_events")
    .select((eb) => eb.fn.min("detected_at").as("at"))
    .where("cluster", "=", report.cluster)
    .where("group", "=", group)
    .where("kind", "=", kind)
    .where("namespace", "=", namespace)
    .where("name", "=", name)
    .where("detected_at", ">", new Date(detectedAt))
    .executeTakeFirst();
  if (newer?.at) return newer.at;
  const synced = await trx
    .selectFrom("cluster_status")
    .select("reported_at")
    .where("cluster", "=", report.cluster)
    .where("sync_state", "=", SyncState.Synced)
    .where("reported_at", ">=", new Date(detectedAt))
    .executeTakeFirst();
  return synced?.reported_at ?? null;
}

async function writeHeartbeat(trx: Transaction<FleetSchema>, report: HeartbeatReport): Promise<IngestOutcome> {
  const at = reportTimestamp(report.at, "at");
  const written = await trx
    .insertInto("heartbeats")
    .values({ cluster: report.cluster, agent: report.agent, at, generation: report.generation, deadline_seconds: report.deadlineSeconds })
    .onConflict((oc) =>
      oc
        .column("cluster")
        .doUpdateSet((eb) => ({
          agent: eb.ref("excluded.agent"),
          at: eb.ref("excluded.at"),
          generation: eb.ref("excluded.generation"),
          deadline_seconds: eb.ref("excluded.deadline_seconds"),
        }))
        // A heartbeat delivered late (from a backlog) must not make a silent agent look alive.
        .where("heartbeats.at", "<", sql<Date>`excluded.at`),
    )
    .returning("cluster")
    .executeTakeFirst();
  return written ? "ingested" : "stale";
}

function dedupe<T>(items: readonly T[], key: (t: T) => string): T[] {
  const byKey = new Map<string, T>();
  for (const item of items) byKey.set(key(item), item);
  return [...byKey.values()];
}

function* chunks<T>(items: readonly T[], size: number): Generator<T[]> {
  for (let i = 0; i < items.length; i += size) yield items.slice(i, i + size);
}
