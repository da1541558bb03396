// A drift report: one event in the drift ledger. An event stays open until it is reverted, a
// newer event of the same object supersedes it, or the cluster reports Synced at a newer
// generation after it (see write-status.ts).
import type { Transaction } from "kysely";
import { DriftAction, SyncState, type DriftReport } from "@flotilla/model";
import type { FleetSchema } from "../schema.js";
import { reportTimestamp } from "../timestamps.js";
import type { WriteOutcome } from "./write-outcome.js";

export async function writeDrift(trx: Transaction<FleetSchema>, report: DriftReport): Promise<WriteOutcome> {
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
 * arriving late (redelivered) when a newer drift of the same object, or a later Synced status of
 * a newer generation, is already stored. Otherwise null: it is open.
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
    .where("generation", ">", report.generation)
    .where("reported_at", ">=", new Date(detectedAt))
    .executeTakeFirst();
  return synced?.reported_at ?? null;
}
