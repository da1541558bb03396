// Leader election among hub replicas: a Postgres session advisory lock held on a dedicated
// connection. Postgres releases it when that session ends (a killed hub, a dropped connection), so
// no lease renewal or clock is involved, and the database that holds the promotion state is the
// one that decides who drives it: a hub cut off from Postgres can neither lead nor write.
// Embedded PGlite serves one process: that process leads.
import pg from "pg";

export interface LeaderLease {
  /** True while this process holds the lease; tries to take it when free. */
  isLeader(): Promise<boolean>;
  close(): Promise<void>;
}

/** A lease that is always held (embedded database, single hub). */
export const SOLE_LEADER: LeaderLease = { isLeader: async () => true, close: async () => undefined };

export function openLeaderLease(opts: { url: string | undefined; name: string }): LeaderLease {
  if (opts.url === undefined) return SOLE_LEADER;
  let client: pg.Client | undefined;
  let held = false;
  let closed = false;

  const drop = () => {
    held = false;
    const c = client;
    client = undefined;
    void c?.end().catch(() => undefined);
  };

  return {
    async isLeader() {
      if (closed) return false;
      if (held && client) return true;
      try {
        if (!client) {
          const c = new pg.Client({ connectionString: opts.url, application_name: `flotilla-leader-${opts.name}` });
          c.on("error", drop); // the session is gone, and the lock with it
          await c.connect();
          client = c;
        }
        const r = await client.query<{ ok: boolean }>("select pg_try_advisory_lock(hashtext($1)) as ok", [`flotilla:${opts.name}`]);
        held = r.rows[0]?.ok === true;
        return held;
      } catch {
        drop();
        return false;
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
