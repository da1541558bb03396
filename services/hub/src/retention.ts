// Housekeeping: the ingest de-duplication table only has to outlive redeliveries of a message
// whose ack was lost (ack_wait) and JetStream's duplicate window; a day is far beyond both, and
// without this sweep the table would grow with every report forever.
import type { Kysely } from "kysely";
import { pruneIngestedMessages, type FleetSchema } from "@flotilla/store";

export interface RetentionOptions {
  db: Kysely<FleetSchema>;
  /** Keep message ids this long (default 24 h). */
  keepMs?: number;
  /** Sweep this often (default 10 min). */
  intervalMs?: number;
  onError?: (err: unknown) => void;
}

export function startRetention(opts: RetentionOptions): { stop(): Promise<void> } {
  const keepMs = opts.keepMs ?? 24 * 3600_000;
  let running: Promise<unknown> = Promise.resolve();
  const sweep = () => {
    running = pruneIngestedMessages(opts.db, new Date(Date.now() - keepMs)).catch((err) => opts.onError?.(err));
  };
  const timer = setInterval(sweep, opts.intervalMs ?? 10 * 60_000);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
