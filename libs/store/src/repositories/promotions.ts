// Releases, promotions and everything a promotion records: per-cluster outcomes, approvals, the
// event log (streamed by the API), holds on auto-promotion and idempotency keys. Rows are read
// back as the API shows them (camelCase, ISO times).
import { sql, type Insertable, type Kysely, type Selectable, type Updateable } from "kysely";
import {
  PromotionState,
  TERMINAL_PROMOTION_STATES,
  type ClusterOutcome,
  type ErrorInfo,
  type GateResult,
  type PromotionEventType,
  type PromotionKind,
  type Release,
} from "@flotilla/model";
import type { FleetSchema, PromotionClustersTable, PromotionsTable, StoredCommit, StoredPlan } from "../schema.js";

type Db = Kysely<FleetSchema>;
const iso = (d: Date | null | undefined): string | undefined => (d ? new Date(d).toISOString() : undefined);

// --- releases --------------------------------------------------------------------------------

/** Inserts a release; the same id twice keeps the first (releases are immutable). Returns the stored one. */
export async function recordRelease(db: Db, r: Release): Promise<Release> {
  await db
    .insertInto("releases")
    .values({ id: r.id, app: r.app, source_revision: r.sourceRevision, images: JSON.stringify(r.images), created_by: r.createdBy, created_at: r.createdAt, note: r.note ?? null })
    .onConflict((oc) => oc.column("id").doNothing())
    .execute();
  return (await getRelease(db, r.id))!;
}

export async function getRelease(db: Db, id: string): Promise<Release | undefined> {
  const row = await db.selectFrom("releases").selectAll().where("id", "=", id).executeTakeFirst();
  if (!row) return undefined;
  return { id: row.id, app: row.app, sourceRevision: row.source_revision, images: row.images, createdBy: row.created_by, createdAt: iso(row.created_at)!, ...(row.note ? { note: row.note } : {}) };
}

export async function listReleases(db: Db, app?: string, limit = 100): Promise<Release[]> {
  let q = db.selectFrom("releases").select("id").orderBy("created_at", "desc").limit(limit);
  if (app) q = q.where("app", "=", app);
  const ids = await q.execute();
  return Promise.all(ids.map(async (r) => (await getRelease(db, r.id))!));
}

// --- promotions ------------------------------------------------------------------------------

export type PromotionRow = Selectable<PromotionsTable>;
export type PromotionClusterRow = Selectable<PromotionClustersTable>;

export interface NewPromotion {
  id: string;
  app: string;
  environment: string;
  releaseId: string;
  kind: PromotionKind;
  rollbackOf?: string;
  requestedBy: string;
  auto?: boolean;
  plan: StoredPlan;
  previousReleaseId?: string;
  at: Date;
}

export async function insertPromotion(db: Db, p: NewPromotion): Promise<PromotionRow> {
  const row: Insertable<PromotionsTable> = {
    id: p.id,
    app: p.app,
    environment: p.environment,
    release_id: p.releaseId,
    kind: p.kind,
    rollback_of: p.rollbackOf ?? null,
    state: PromotionState.Pending,
    reason: null,
    requested_by: p.requestedBy,
    auto: p.auto ?? false,
    created_at: p.at,
    updated_at: p.at,
    finished_at: null,
    plan: JSON.stringify(p.plan),
    base_revision: null,
    previous_release_id: p.previousReleaseId ?? null,
    paused_from: null,
    error: null,
  };
  return db.insertInto("promotions").values(row).returningAll().executeTakeFirstOrThrow();
}

export async function getPromotion(db: Db, id: string): Promise<PromotionRow | undefined> {
  return db.selectFrom("promotions").selectAll().where("id", "=", id).executeTakeFirst();
}

export interface PromotionFilter {
  app?: string;
  environment?: string;
  releaseId?: string;
  states?: PromotionState[];
  limit?: number;
}

export async function listPromotions(db: Db, f: PromotionFilter = {}): Promise<PromotionRow[]> {
  let q = db.selectFrom("promotions").selectAll().orderBy("created_at", "desc").orderBy("id", "desc").limit(f.limit ?? 100);
  if (f.app) q = q.where("app", "=", f.app);
  if (f.environment) q = q.where("environment", "=", f.environment);
  if (f.releaseId) q = q.where("release_id", "=", f.releaseId);
  if (f.states?.length) q = q.where("state", "in", f.states);
  return q.execute();
}

/** Promotions the controller still drives, oldest first (the queue order of each app and environment). */
export async function listOpenPromotions(db: Db): Promise<PromotionRow[]> {
  return db.selectFrom("promotions").selectAll().where("state", "not in", [...TERMINAL_PROMOTION_STATES]).orderBy("created_at").orderBy("id").execute();
}

export interface PromotionPatch {
  state?: PromotionState;
  reason?: string | null;
  currentWave?: number;
  waveSettledAt?: Date | null;
  commits?: StoredCommit[];
  baseRevision?: string;
  gates?: GateResult[];
  pausedFrom?: PromotionState | null;
  error?: ErrorInfo | null;
  attempts?: number;
  plan?: StoredPlan;
  finishedAt?: Date;
  supersededBy?: string;
}

/**
 * Updates a promotion; with `expectState`, only while it is still in that state (an API call and
 * the controller racing: the loser changes nothing). Returns the updated row, if any.
 */
/**
 * Updates a promotion; undefined when it is not in `expectState` or no longer at `expectVersion`
 * (someone else updated it since it was read). Every update adds one to its version.
 */
export async function updatePromotion(db: Db, id: string, patch: PromotionPatch, at: Date, expectState?: PromotionState | PromotionState[], expectVersion?: number): Promise<PromotionRow | undefined> {
  const set: Updateable<PromotionsTable> = { updated_at: at };
  if (patch.state !== undefined) set.state = patch.state;
  if (patch.reason !== undefined) set.reason = patch.reason;
  if (patch.currentWave !== undefined) set.current_wave = patch.currentWave;
  if (patch.waveSettledAt !== undefined) set.wave_settled_at = patch.waveSettledAt;
  if (patch.commits !== undefined) set.commits = JSON.stringify(patch.commits);
  if (patch.baseRevision !== undefined) set.base_revision = patch.baseRevision;
  if (patch.gates !== undefined) set.gates = JSON.stringify(patch.gates);
  if (patch.pausedFrom !== undefined) set.paused_from = patch.pausedFrom;
  if (patch.error !== undefined) set.error = patch.error === null ? null : JSON.stringify(patch.error);
  if (patch.attempts !== undefined) set.attempts = patch.attempts;
  if (patch.plan !== undefined) set.plan = JSON.stringify(patch.plan);
  if (patch.finishedAt !== undefined) set.finished_at = patch.finishedAt;
  if (patch.supersededBy !== undefined) set.superseded_by = patch.supersededBy;
  let q = db.updateTable("promotions").set(set).set({ version: sql`version + 1` }).where("id", "=", id);
  if (expectState !== undefined) q = q.where("state", "in", Array.isArray(expectState) ? expectState : [expectState]);
  if (expectVersion !== undefined) q = q.where("version", "=", expectVersion);
  return q.returningAll().executeTakeFirst();
}

// --- per-cluster outcomes --------------------------------------------------------------------

export async function insertPromotionClusters(db: Db, promotionId: string, waves: { clusters: string[] }[], at: Date): Promise<void> {
  const rows = waves.flatMap((w, wave) => w.clusters.map((cluster) => ({ promotion_id: promotionId, cluster, wave, outcome: "Pending" as ClusterOutcome, changed_at: at })));
  if (rows.length) await db.insertInto("promotion_clusters").values(rows).onConflict((oc) => oc.columns(["promotion_id", "cluster"]).doNothing()).execute();
}

export async function listPromotionClusters(db: Db, promotionId: string): Promise<PromotionClusterRow[]> {
  return db.selectFrom("promotion_clusters").selectAll().where("promotion_id", "=", promotionId).orderBy("wave").orderBy("cluster").execute();
}

export interface ClusterOutcomePatch {
  outcome?: ClusterOutcome;
  message?: string | null;
  generation?: number | null;
  bundleDigest?: string | null;
  issuedAt?: Date | null;
  healthySince?: Date | null;
  skippedBy?: string;
}

export async function updatePromotionCluster(db: Db, promotionId: string, cluster: string, patch: ClusterOutcomePatch, at: Date): Promise<void> {
  const set: Updateable<PromotionClustersTable> = { changed_at: at };
  if (patch.outcome !== undefined) set.outcome = patch.outcome;
  if (patch.message !== undefined) set.message = patch.message;
  if (patch.generation !== undefined) set.generation = patch.generation;
  if (patch.bundleDigest !== undefined) set.bundle_digest = patch.bundleDigest;
  if (patch.issuedAt !== undefined) set.issued_at = patch.issuedAt;
  if (patch.healthySince !== undefined) set.healthy_since = patch.healthySince;
  if (patch.skippedBy !== undefined) set.skipped_by = patch.skippedBy;
  await db.updateTable("promotion_clusters").set(set).where("promotion_id", "=", promotionId).where("cluster", "=", cluster).execute();
}

// --- approvals -------------------------------------------------------------------------------

export interface ApprovalRecord {
  subject: string;
  groups: string[];
  verdict: "approve" | "reject";
  comment?: string;
  at: string;
}

/** Records (or replaces) a subject's verdict on a promotion. */
export async function recordApproval(db: Db, promotionId: string, a: ApprovalRecord): Promise<void> {
  await db
    .insertInto("promotion_approvals")
    .values({ promotion_id: promotionId, subject: a.subject, groups: JSON.stringify(a.groups), verdict: a.verdict, comment: a.comment ?? null, at: a.at })
    .onConflict((oc) => oc.columns(["promotion_id", "subject"]).doUpdateSet({ verdict: a.verdict, groups: JSON.stringify(a.groups), comment: a.comment ?? null, at: a.at }))
    .execute();
}

export async function listApprovals(db: Db, promotionId: string): Promise<ApprovalRecord[]> {
  const rows = await db.selectFrom("promotion_approvals").selectAll().where("promotion_id", "=", promotionId).orderBy("at").execute();
  return rows.map((r) => ({ subject: r.subject, groups: r.groups, verdict: r.verdict, ...(r.comment ? { comment: r.comment } : {}), at: iso(r.at)! }));
}

// --- events ----------------------------------------------------------------------------------

export interface PromotionEvent {
  id: number;
  promotionId: string;
  type: PromotionEventType;
  actor: string;
  at: string;
  data: Record<string, unknown>;
}

export async function recordPromotionEvent(db: Db, promotionId: string, type: PromotionEventType, actor: string, data: Record<string, unknown>, at: Date): Promise<void> {
  await db.insertInto("promotion_events").values({ promotion_id: promotionId, type, actor, at, data: JSON.stringify(data) }).execute();
}

/**
 * Records the event unless the promotion already has one of this type whose data contains `key`
 * (e.g. `{ wave: 2 }`): a step redone — retried, or carried on by another hub replica — reports
 * what it starts once. Returns whether it was recorded.
 */
export async function recordPromotionEventOnce(db: Db, promotionId: string, type: PromotionEventType, actor: string, data: Record<string, unknown>, at: Date, key: Record<string, unknown>): Promise<boolean> {
  const r = await db
    .insertInto("promotion_events")
    .columns(["promotion_id", "type", "actor", "at", "data"])
    .expression(
      db
        .selectNoFrom([sql<string>`${promotionId}`.as("promotion_id"), sql<PromotionEventType>`${type}`.as("type"), sql<string>`${actor}`.as("actor"), sql<Date>`${at}::timestamptz`.as("at"), sql<string>`${JSON.stringify(data)}::jsonb`.as("data")])
        .where(({ not, exists, selectFrom }) =>
          not(exists(selectFrom("promotion_events").select(sql`1`.as("one")).where("promotion_id", "=", promotionId).where("type", "=", type).where(sql<boolean>`data @> ${JSON.stringify(key)}::jsonb`))),
        ),
    )
    .executeTakeFirst();
  return Number(r.numInsertedOrUpdatedRows ?? 0) > 0;
}

/** Events after `afterId` (all promotions, or one), oldest first. */
export async function listPromotionEvents(db: Db, opts: { afterId?: number; promotionId?: string; limit?: number } = {}): Promise<PromotionEvent[]> {
  let q = db.selectFrom("promotion_events").selectAll().where("id", ">", opts.afterId ?? 0).orderBy("id").limit(opts.limit ?? 500);
  if (opts.promotionId) q = q.where("promotion_id", "=", opts.promotionId);
  const rows = await q.execute();
  return rows.map((r) => ({ id: Number(r.id), promotionId: r.promotion_id, type: r.type, actor: r.actor, at: iso(r.at)!, data: r.data }));
}

// --- holds -----------------------------------------------------------------------------------

export interface PromotionHold {
  app: string;
  environment: string;
  releaseId: string;
  reason: string;
  createdBy: string;
  createdAt: string;
}

export async function recordHold(db: Db, h: PromotionHold): Promise<void> {
  await db
    .insertInto("promotion_holds")
    .values({ app: h.app, environment: h.environment, release_id: h.releaseId, reason: h.reason, created_by: h.createdBy, created_at: h.createdAt })
    .onConflict((oc) => oc.columns(["app", "environment", "release_id"]).doNothing())
    .execute();
}

export async function listHolds(db: Db, f: { app?: string; environment?: string } = {}): Promise<PromotionHold[]> {
  let q = db.selectFrom("promotion_holds").selectAll().orderBy("created_at");
  if (f.app) q = q.where("app", "=", f.app);
  if (f.environment) q = q.where("environment", "=", f.environment);
  const rows = await q.execute();
  return rows.map((r) => ({ app: r.app, environment: r.environment, releaseId: r.release_id, reason: r.reason, createdBy: r.created_by, createdAt: iso(r.created_at)! }));
}

// --- idempotency keys ------------------------------------------------------------------------

export interface StoredResponse {
  requestHash: string;
  status: number;
  response: Record<string, unknown>;
}

export async function getIdempotentResponse(db: Db, scope: string, key: string): Promise<StoredResponse | undefined> {
  const row = await db.selectFrom("idempotency_keys").selectAll().where("scope", "=", scope).where("key", "=", key).executeTakeFirst();
  return row ? { requestHash: row.request_hash, status: row.status, response: row.response } : undefined;
}

/** Stores the response of a key's first request; a concurrent first request keeps its own. */
export async function storeIdempotentResponse(db: Db, scope: string, key: string, r: StoredResponse, at: Date): Promise<void> {
  await db
    .insertInto("idempotency_keys")
    .values({ scope, key, request_hash: r.requestHash, status: r.status, response: JSON.stringify(r.response), created_at: at })
    .onConflict((oc) => oc.columns(["scope", "key"]).doNothing())
    .execute();
}

// --- what the agents reported, for cluster outcomes ------------------------------------------

export interface ClusterReportView {
  cluster: string;
  status?: { generation: number; bundleDigest: string; syncState: Selectable<FleetSchema["cluster_status"]>["sync_state"]; health: Selectable<FleetSchema["cluster_status"]>["health"]; reportedAt: Date };
  /** The later of the last heartbeat and the last status report. */
  lastSeenAt?: Date;
  pointer?: { generation: number; bundleDigest: string; revision: string; issuedAt: Date };
}

/** Latest status, heartbeat and current desired pointer of each cluster, in one query. */
export async function clusterReports(db: Db, clusters: readonly string[]): Promise<Map<string, ClusterReportView>> {
  const out = new Map<string, ClusterReportView>();
  if (clusters.length === 0) return out;
  const rows = await db
    .selectFrom("clusters as c")
    .leftJoin("cluster_status as s", "s.cluster", "c.name")
    .leftJoin("heartbeats as h", "h.cluster", "c.name")
    .leftJoin("current_desired_pointers as p", "p.cluster", "c.name")
    .select([
      "c.name as cluster",
      "s.generation as s_generation",
      "s.bundle_digest as s_digest",
      "s.sync_state as s_sync",
      "s.health as s_health",
      "s.reported_at as s_at",
      "h.at as h_at",
      "p.generation as p_generation",
      "p.bundle_digest as p_digest",
      "p.revision as p_revision",
      "p.issued_at as p_issued",
    ])
    .where("c.name", "in", [...clusters])
    .execute();
  for (const r of rows) {
    const seen = [r.s_at, r.h_at].filter((d): d is Date => !!d).map((d) => new Date(d).getTime());
    out.set(r.cluster, {
      cluster: r.cluster,
      ...(r.s_generation !== null && r.s_digest && r.s_sync && r.s_health && r.s_at
        ? { status: { generation: Number(r.s_generation), bundleDigest: r.s_digest, syncState: r.s_sync, health: r.s_health, reportedAt: new Date(r.s_at) } }
        : {}),
      ...(seen.length ? { lastSeenAt: new Date(Math.max(...seen)) } : {}),
      ...(r.p_generation !== null && r.p_digest && r.p_revision && r.p_issued
        ? { pointer: { generation: Number(r.p_generation), bundleDigest: r.p_digest, revision: r.p_revision, issuedAt: new Date(r.p_issued) } }
        : {}),
    });
  }
  return out;
}
