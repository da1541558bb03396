// Leader election among hub replicas: a Postgres session advisory lock held on a dedicated
// connection. Postgres releases it when that session ends (a killed hub, a dropped connection), so
// no lease renewal or clock is involved, and the database that holds generations and promotion
// state is the one that decides who drives them: a hub cut off from Postgres can neither lead nor
// write. Embedded PGlite serves one process: that process leads.
//
// A partitioned leader (its packets dropped, no FIN/RST) must notice before Postgres gives the lock
// to someone else, or two hubs would lead at once:
//   - the hub side: every check is a round trip with a timeout (checkTimeoutMs); a check that does
//     not answer drops the session and reports "not leader" — the hub steps down within
//     pollMs + checkTimeoutMs of the partition;
//   - the server side: the session's TCP keepalives and tcp_user_timeout (set per session below)
//     end a silent session, and so release the lock, only after SERVER_DEAD_AFTER_MS (> the hub
//     side's bound), so the old leader has stepped down before a new one can take over.
import pg from "pg";
import { sql, type Kysely } from "kysely";
import type { FleetSchema } from "./schema.js";

export interface LeaderLease {
  /** This process's identity as other replicas see it (see leaseHolder). */
  readonly identity: string;
  /** True while this process holds the lease (a round trip proves the session is alive); tries to
   * take it when free. */
  isLeader(): Promise<boolean>;
  /** True if this process holds the lease right now: a round trip started after the call, never
   * an attempt to take it. The publish fence. */
  confirm(): Promise<boolean>;
  /** The identity of the replica holding the lease, undefined when none does (or the database
   * does not answer). */
  holder(): Promise<string | undefined>;
  close(): Promise<void>;
}

export interface LeaderLeaseOptions {
  url: string | undefined;
  /** The lock's name; replicas with the same name (and database) elect one leader. */
  name: string;
  /** Who this process is (host:pid by default); at most 47 characters are kept. */
  identity?: string;
  /** A check (the lock, or the session's liveness) that takes longer fails; default 2 s. */
  checkTimeoutMs?: number;
  /** After losing the lease, do not try to take it again for this long (another replica gets the
   * first chance, so a hub whose session broke does not win straight back); default 0. */
  rejoinAfterMs?: number;
  /** LISTEN on this channel on the lease session: work handed to the leader (a follower's
   * `pg_notify`, see notifyChannel) reaches it over the session that makes it the leader. */
  listen?: { channel: string; onNotify(payload: string): void };
}

/** How long Postgres keeps a silent leader session (so its lock) alive: keepalive idle 4 s + 3
 * probes 1 s apart, or 6 s of unacknowledged data (tcp_user_timeout). */
export const SERVER_KEEPALIVE = { idleS: 4, intervalS: 1, count: 3, userTimeoutMs: 6_000 } as const;
export const SERVER_DEAD_AFTER_MS = Math.max(SERVER_KEEPALIVE.idleS * 1000 + SERVER_KEEPALIVE.intervalS * 1000 * SERVER_KEEPALIVE.count, SERVER_KEEPALIVE.userTimeoutMs);
export const DEFAULT_CHECK_TIMEOUT_MS = 2_000;

const APP_PREFIX = "flotilla-leader:";
/** application_name holds 63 bytes. */
const MAX_IDENTITY = 63 - APP_PREFIX.length;

/** A lease that is always held (embedded database, single hub). */
export function soleLeader(identity = "sole"): LeaderLease {
  return { identity, isLeader: async () => true, confirm: async () => true, holder: async () => identity, close: async () => undefined };
}
export const SOLE_LEADER: LeaderLease = soleLeader();

export function openLeaderLease(opts: LeaderLeaseOptions): LeaderLease {
  const identity = (opts.identity ?? `${process.env.HOSTNAME ?? "hub"}:${process.pid}`).slice(0, MAX_IDENTITY);
  if (opts.url === undefined) return soleLeader(identity);
  const url = opts.url;
  const checkTimeoutMs = opts.checkTimeoutMs ?? DEFAULT_CHECK_TIMEOUT_MS;
  const lockKey = `flotilla:${opts.name}`;
  let client: pg.Client | undefined;
  let held = false;
  let closed = false;
  let lostAt = -Infinity;

  const drop = (c: pg.Client | undefined) => {
    if (c === undefined || c !== client) return;
    if (held) lostAt = Date.now();
    held = false;
    client = undefined;
    // A partitioned socket would make end() wait: destroy it, the server side times out on its own.
    (c as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
    void c.end().catch(() => undefined);
  };

  async function session(): Promise<pg.Client> {
    if (client) return client;
    const k = SERVER_KEEPALIVE;
    const c = new pg.Client({
      connectionString: url,
      application_name: `${APP_PREFIX}${identity}`,
      keepAlive: true,
      keepAliveInitialDelayMillis: 1_000,
      connectionTimeoutMillis: checkTimeoutMs,
      query_timeout: checkTimeoutMs,
      // Server side of the session: a partitioned hub's session ends (and its lock is released) within SERVER_DEAD_AFTER_MS.
      options: `-c tcp_keepalives_idle=${k.idleS} -c tcp_keepalives_interval=${k.intervalS} -c tcp_keepalives_count=${k.count} -c tcp_user_timeout=${k.userTimeoutMs}`,
    });
    c.on("error", () => drop(c)); // the session is gone, and the lock with it
    const listen = opts.listen;
    if (listen) c.on("notification", (n) => n.channel === listen.channel && listen.onNotify(n.payload ?? ""));
    client = c;
    try {
      await c.connect();
      if (listen) await c.query(`LISTEN ${quoteIdent(listen.channel)}`);
    } catch (err) {
      drop(c);
      throw err;
    }
    return c;
  }

  /** One round trip on the lease session; any failure or timeout ends the session. */
  async function check(tryTake: boolean): Promise<boolean> {
    if (closed) return false;
    if (!held && !tryTake) return false;
    let c: pg.Client | undefined;
    try {
      c = await session();
      if (held) {
        // A session advisory lock lasts as long as the session: a live session still holds it.
        await c.query("select 1");
        return held;
      }
      if (Date.now() - lostAt < (opts.rejoinAfterMs ?? 0)) return false;
      const r = await c.query<{ ok: boolean }>("select pg_try_advisory_lock(hashtext($1)) as ok", [lockKey]);
      held = r.rows[0]?.ok === true && c === client;
      return held;
    } catch {
      drop(c);
      return false;
    }
  }

  // Confirmations coalesce, but only into a check that starts after the caller asked: a round trip
  // already on its way may predate a publish's read of the key it guards.
  let running: Promise<boolean> | undefined;
  let queued: Promise<boolean> | undefined;
  function confirm(): Promise<boolean> {
    if (!running) {
      running = check(false).finally(() => (running = undefined));
      return running;
    }
    queued ??= running.then(() => {
      queued = undefined;
      return confirm();
    });
    return queued;
  }

  return {
    identity,
    isLeader: () => check(true),
    confirm,
    async holder() {
      try {
        const c = await session();
        const r = await c.query<{ app: string | null }>(
          `select a.application_name as app from pg_locks l join pg_stat_activity a on a.pid = l.pid
            where l.locktype = 'advisory' and l.granted and l.objsubid = 1
              and l.database = (select oid from pg_database where datname = current_database())
              and ((l.classid::bigint << 32) | l.objid::bigint) = hashtext($1)::bigint`,
          [lockKey],
        );
        const app = r.rows[0]?.app;
        if (!app) return undefined;
        return app.startsWith(APP_PREFIX) ? app.slice(APP_PREFIX.length) : app;
      } catch {
        drop(client);
        return undefined;
      }
    },
    async close() {
      closed = true;
      const c = client;
      client = undefined;
      held = false;
      await c?.end().catch(() => undefined);
    },
  };
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** Sends `payload` to whoever LISTENs on `channel` (the leader's lease session). Delivered when
 * the sender's transaction commits (here: at once), to sessions listening at that moment only. */
export async function notifyChannel(db: Kysely<FleetSchema>, channel: string, payload: string): Promise<void> {
  await sql`select pg_notify(${channel}, ${payload})`.execute(db);
}
