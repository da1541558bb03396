// Break-glass windows and their audit trail. Every start, early end and expiry writes an audit row
// in the same transaction as the window change, so the trail can never miss one.
import { randomUUID } from "node:crypto";
import { sql, type Kysely, type Selectable } from "kysely";
import { BreakGlassEvent, type BreakGlassScopeSpec, type BreakGlassWindow } from "@flotilla/model";
import type { BreakGlassWindowsTable, FleetSchema } from "../schema.js";

export interface StartBreakGlassInput {
  /** Default: a random UUID. */
  id?: string;
  cluster: string;
  scope: BreakGlassScopeSpec;
  reason: string;
  author: string;
  startedAt: Date;
  expiresAt: Date;
}

export interface EndBreakGlassInput {
  cluster: string;
  id: string;
  actor: string;
  reason?: string;
  at: Date;
}

export type EndBreakGlassOutcome =
  | { outcome: "ended"; window: BreakGlassWindow }
  /** Ended (or expired) before this call; nothing was written. */
  | { outcome: "already-ended"; window: BreakGlassWindow }
  | { outcome: "not-found" };

export interface BreakGlassAuditEntry {
  id: number;
  windowId: string;
  cluster: string;
  event: BreakGlassEvent;
  actor: string;
  reason: string | null;
  at: string;
  /** The window the event is about (its scope, author and reason as started). */
  window: { scope: BreakGlassScopeSpec; author: string; reason: string; expiresAt: string };
}

export interface BreakGlassAuditQuery {
  cluster?: string;
  /** At most this many (newest first). */
  limit: number;
}

/** Opens a window and records its start (actor = author, reason = the window's reason). */
export async function startBreakGlass(db: Kysely<FleetSchema>, input: StartBreakGlassInput): Promise<BreakGlassWindow> {
  const id = input.id ?? randomUUID();
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .insertInto("break_glass_windows")
      .values({
        id,
        cluster: input.cluster,
        scope: JSON.stringify(input.scope),
        reason: input.reason,
        author: input.author,
        started_at: input.startedAt,
        expires_at: input.expiresAt,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await trx
      .insertInto("break_glass_audit")
      .values({ window_id: id, cluster: input.cluster, event: BreakGlassEvent.Started, actor: input.author, reason: input.reason, at: input.startedAt })
      .execute();
    return windowOf(row);
  });
}

/** Ends an open window early. A window that already ended or expired is left as it is. */
export async function endBreakGlass(db: Kysely<FleetSchema>, input: EndBreakGlassInput): Promise<EndBreakGlassOutcome> {
  return db.transaction().execute(async (trx) => {
    const ended = await trx
      .updateTable("break_glass_windows")
      .set({ ended_at: input.at, ended_by: input.actor, end_reason: input.reason ?? null })
      .where("id", "=", input.id)
      .where("cluster", "=", input.cluster)
      .where("ended_at", "is", null)
      .where("expires_at", ">", input.at)
      .returningAll()
      .executeTakeFirst();
    if (ended) {
      await trx
        .insertInto("break_glass_audit")
        .values({ window_id: input.id, cluster: input.cluster, event: BreakGlassEvent.Ended, actor: input.actor, reason: input.reason ?? null, at: input.at })
        .execute();
      return { outcome: "ended" as const, window: windowOf(ended) };
    }
    const row = await trx.selectFrom("break_glass_windows").selectAll().where("id", "=", input.id).where("cluster", "=", input.cluster).executeTakeFirst();
    return row ? { outcome: "already-ended" as const, window: windowOf(row) } : { outcome: "not-found" as const };
  });
}

/**
 * Marks every open window whose expiry has passed as expired (ended at its expiry, by `actor`)
 * and audits each. Returns the windows it expired; running it twice expires nothing twice.
 */
export async function expireDueBreakGlass(db: Kysely<FleetSchema>, opts: { now: Date; actor: string }): Promise<BreakGlassWindow[]> {
  return db.transaction().execute(async (trx) => {
    const rows = await trx
      .updateTable("break_glass_windows")
      .set({ ended_at: sql`expires_at`, ended_by: opts.actor, end_reason: "expired" })
      .where("ended_at", "is", null)
      .where("expires_at", "<=", opts.now)
      .returningAll()
      .execute();
    if (rows.length > 0) {
      await trx
        .insertInto("break_glass_audit")
        .values(rows.map((r) => ({ window_id: r.id, cluster: r.cluster, event: BreakGlassEvent.Expired, actor: opts.actor, reason: "expired", at: r.expires_at })))
        .execute();
    }
    return rows.map(windowOf);
  });
}

/** Open windows (not ended, not yet expired at `now`), oldest first; of one cluster or the fleet. */
export async function listActiveBreakGlass(db: Kysely<FleetSchema>, opts: { cluster?: string; now: Date }): Promise<BreakGlassWindow[]> {
  let q = db.selectFrom("break_glass_windows").selectAll().where("ended_at", "is", null).where("expires_at", ">", opts.now);
  if (opts.cluster !== undefined) q = q.where("cluster", "=", opts.cluster);
  const rows = await q.orderBy("started_at").orderBy("id").execute();
  return rows.map(windowOf);
}

export async function getBreakGlassWindow(db: Kysely<FleetSchema>, cluster: string, id: string): Promise<BreakGlassWindow | undefined> {
  const row = await db.selectFrom("break_glass_windows").selectAll().where("id", "=", id).where("cluster", "=", cluster).executeTakeFirst();
  return row ? windowOf(row) : undefined;
}

/** The audit trail, newest first. */
export async function listBreakGlassAudit(db: Kysely<FleetSchema>, q: BreakGlassAuditQuery): Promise<BreakGlassAuditEntry[]> {
  let query = db
    .selectFrom("break_glass_audit as a")
    .innerJoin("break_glass_windows as w", "w.id", "a.window_id")
    .select(["a.id", "a.window_id", "a.cluster", "a.event", "a.actor", "a.reason", "a.at", "w.scope", "w.author", "w.reason as window_reason", "w.expires_at"])
    .orderBy("a.at", "desc")
    .orderBy("a.id", "desc")
    .limit(q.limit);
  if (q.cluster !== undefined) query = query.where("a.cluster", "=", q.cluster);
  const rows = await query.execute();
  return rows.map((r) => ({
    id: r.id,
    windowId: r.window_id,
    cluster: r.cluster,
    event: r.event,
    actor: r.actor,
    reason: r.reason,
    at: r.at.toISOString(),
    window: { scope: r.scope, author: r.author, reason: r.window_reason, expiresAt: r.expires_at.toISOString() },
  }));
}

/**
 * The generation for the cluster's next control record: one more than the last, and at least
 * `floor`. The hub passes its clock in milliseconds as the floor, so generations keep increasing
 * even when the hub starts over with an empty database (agents refuse a record that is not newer
 * than the one they hold).
 */
export async function nextControlGeneration(db: Kysely<FleetSchema>, cluster: string, floor: number): Promise<number> {
  const row = await db
    .insertInto("break_glass_control")
    .values({ cluster, generation: Math.max(1, Math.floor(floor)) })
    .onConflict((oc) =>
      oc.column("cluster").doUpdateSet({ generation: sql`greatest(break_glass_control.generation + 1, excluded.generation)` }),
    )
    .returning("generation")
    .executeTakeFirstOrThrow();
  return Number(row.generation);
}

function windowOf(r: Selectable<BreakGlassWindowsTable>): BreakGlassWindow {
  return {
    id: r.id,
    cluster: r.cluster,
    scope: r.scope,
    reason: r.reason,
    author: r.author,
    startedAt: r.started_at.toISOString(),
    expiresAt: r.expires_at.toISOString(),
    ...(r.ended_at ? { endedAt: r.ended_at.toISOString() } : {}),
    ...(r.ended_by !== null ? { endedBy: r.ended_by } : {}),
    ...(r.end_reason !== null ? { endReason: r.end_reason } : {}),
  };
}
