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
  app?: string;
  /** Clusters of this environment only. */
  environment?: string;
  kind?: string;
  namespace?: string;
  /** The field manager that made the change (kubectl-scale, kubectl-edit, …). */
  actor?: string;
  action?: DriftAction;
  /** open: not resolved yet; closed: resolved (the agent saw the object back as desired). */
  state?: "open" | "closed";
  /** Only events detected at or after this instant. */
  since?: Date;
  /** Only events detected before this instant. */
  until?: Date;
  /** Continue after this event (the `next` cursor of the previous page). */
  after?: DriftCursor;
  /** At most this many (newest first). */
  limit: number;
}

/** Where a page ended: the detection time and id of its last event (keyset pagination). */
export interface DriftCursor {
  detectedAt: Date;
  id: string;
}

export function encodeDriftCursor(c: DriftCursor): string {
  return Buffer.from(JSON.stringify([c.detectedAt.toISOString(), c.id])).toString("base64url");
}

/** The cursor, or undefined when the text is not one this API handed out. */
export function decodeDriftCursor(text: string): DriftCursor | undefined {
  try {
    const [at, id] = JSON.parse(Buffer.from(text, "base64url").toString("utf8")) as unknown[];
    if (typeof at !== "string" || typeof id !== "string" || Number.isNaN(Date.parse(at))) return undefined;
    return { detectedAt: new Date(at), id };
  } catch {
    return undefined;
  }
}

export async function listDriftEvents(db: Kysely<FleetSchema>, q: DriftLedgerQuery): Promise<DriftEventView[]> {
  let query = db.selectFrom("drift_events").selectAll().orderBy("detected_at", "desc").orderBy("id", "desc").limit(q.limit);
  if (q.cluster !== undefined) query = query.where("cluster", "=", q.cluster);
  if (q.app !== undefined) query = query.where("app", "=", q.app);
  if (q.environment !== undefined) {
    const env = q.environment;
    query = query.where("cluster", "in", (eb) => eb.selectFrom("clusters").select("name").where("environment", "=", env));
  }
  if (q.kind !== undefined) query = query.where("kind", "=", q.kind);
  if (q.namespace !== undefined) query = query.where("namespace", "=", q.namespace);
  if (q.actor !== undefined) query = query.where("actor", "=", q.actor);
  if (q.action !== undefined) query = query.where("action", "=", q.action);
  if (q.state === "open") query = query.where("resolved_at", "is", null);
  if (q.state === "closed") query = query.where("resolved_at", "is not", null);
  if (q.since !== undefined) query = query.where("detected_at", ">=", q.since);
  if (q.until !== undefined) query = query.where("detected_at", "<", q.until);
  if (q.after !== undefined) {
    const { detectedAt, id } = q.after;
    query = query.where((eb) => eb.or([eb("detected_at", "<", detectedAt), eb.and([eb("detected_at", "=", detectedAt), eb("id", "<", id)])]));
  }
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
