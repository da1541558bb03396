// Watches the drift ledger in Postgres for the benches: one poll loop (every `intervalMs` while
// anyone waits) over drift_events, handing each new row to the waiters with the time it was first
// seen. The poll interval bounds the resolution of the "drift row in Postgres" figure.
import { performance } from "node:perf_hooks";
import pg from "pg";

export interface LedgerRow {
  id: string;
  cluster: string;
  namespace: string;
  name: string;
  kind: string;
  actor: string;
  action: string;
  paths: { path: string; desired: unknown; live: unknown }[];
  detected_at: Date;
  /** performance.now() when the bench first saw the row. */
  seenAt: number;
}

interface Waiter {
  match: (r: LedgerRow) => boolean;
  resolve: (r: LedgerRow) => void;
  reject: (err: Error) => void;
  deadline: number;
  what: string;
}

export class DriftLedgerPoller {
  private readonly pool: pg.Pool;
  private readonly seen = new Set<string>();
  private readonly waiters = new Set<Waiter>();
  private readonly unclaimed: LedgerRow[] = [];
  private running = false;
  private since = new Date(0);

  constructor(url: string, private readonly intervalMs = 20) {
    this.pool = new pg.Pool({ connectionString: url, max: 1 });
  }

  /** Forgets rows up to now: later waits see only rows inserted after this call. */
  async mark(): Promise<void> {
    await this.poll(performance.now());
    this.unclaimed.length = 0;
  }

  /** Rows detected at or after this instant only (agent clock = this machine's clock). */
  startingAt(at: Date): void {
    this.since = at;
  }

  /** Resolves with the first new row (not yet claimed by another waiter) matching `match`. */
  waitFor(match: (r: LedgerRow) => boolean, timeoutMs: number, what: string): Promise<LedgerRow> {
    const i = this.unclaimed.findIndex(match);
    if (i >= 0) return Promise.resolve(this.unclaimed.splice(i, 1)[0]!);
    return new Promise((resolve, reject) => {
      this.waiters.add({ match, resolve, reject, deadline: performance.now() + timeoutMs, what });
      if (!this.running) void this.loop();
    });
  }

  private async loop(): Promise<void> {
    this.running = true;
    try {
      while (this.waiters.size > 0) {
        const now = performance.now();
        await this.poll(now);
        for (const w of this.waiters) {
          if (performance.now() > w.deadline) {
            this.waiters.delete(w);
            w.reject(new Error(`timed out waiting for ${w.what} in drift_events`));
          }
        }
        if (this.waiters.size > 0) await new Promise((r) => setTimeout(r, this.intervalMs));
      }
    } finally {
      this.running = false;
    }
  }

  private async poll(seenAt: number): Promise<void> {
    const { rows } = await this.pool.query<Omit<LedgerRow, "seenAt">>(
      `select id, cluster, namespace, name, kind, actor, action, paths, detected_at from drift_events where detected_at >= $1 order by detected_at`,
      [this.since],
    );
    for (const r of rows) {
      if (this.seen.has(r.id)) continue;
      this.seen.add(r.id);
      const row: LedgerRow = { ...r, seenAt };
      const w = [...this.waiters].find((x) => x.match(row));
      if (w) {
        this.waiters.delete(w);
        w.resolve(row);
      } else this.unclaimed.push(row);
    }
  }

  async close(): Promise<void> {
    for (const w of this.waiters) w.reject(new Error("ledger poller closed"));
    this.waiters.clear();
    await this.pool.end();
  }
}
