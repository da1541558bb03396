// The drift ledger: drift events, newest first.
import type { Kysely } from "kysely";
import type { DriftAction, DriftPath, DriftPolicy, ObjectRef } from "@flotilla/model";
import type { FleetSchema } from "../schema.js";

export interface DriftEventView {
  id: string;
  cluster: string;
  app: string;
  generation: number;
  revision: string;
  object: ObjectRef;
  paths: DriftPath[];
  actor: string;
  changedAt: string | null;
  detectedAt: string;
  policy: DriftPolicy;
  action: DriftAction;
  agent: string;
  resolvedAt: string | null;
}

export interface DriftLedgerQuery {
  cluster?: string;
  /** Only events detected at or after this instant. */
  since?: Date;
  /** At most this many (newest first). */
  limit: number;
}

export async function listDriftEvents(db: Kysely<FleetSchema>, q: DriftLedgerQuery): Promise<DriftEventView[]> {
  let query = db.selectFrom("drift_events").selectAll().orderBy("detected_at", "desc").orderBy("id", "desc").limit(q.limit);
  if (q.cluster !== undefined) query = query.where("cluster", "=", q.cluster);
  if (q.since !== undefined) query = query.where("detected_at", ">=", q.since);
  const rows = await query.execute();
  return rows.map((r) => ({
    id: r.id,
    cluster: r.cluster,
    app: r.app,
    generation: r.generation,
    revision: r.revision,
    object: { group: r.group, kind: r.kind, namespace: r.namespace, name: r.name },
    paths: r.paths,
    actor: r.actor,
    changedAt: r.changed_at?.toISOString() ?? null,
    detectedAt: r.detected_at.toISOString(),
    policy: r.policy,
    action: r.action,
    agent: r.agent,
    resolvedAt: r.resolved_at?.toISOString() ?? null,
  }));
}
