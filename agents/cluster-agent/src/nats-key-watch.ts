// One robust watch on one key of a KV bucket, shared by the desired pointer (nats-desired-state.ts)
// and the break-glass control record (break-glass.ts). What each value means — signature,
// generation, re-delivery — stays with the caller: this only keeps the watch alive and hands over
// every PUT.
import { jetstream, type JetStreamClient } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { RetryBackoff, DEFAULT_RETRY, type RetryOptions } from "./nats-backoff.js";
import { watchStatus, type NatsConnectionHolder } from "./nats-connection.js";

export const DEFAULT_REWATCH_MS = 5 * 60_000;

export interface NatsKeyWatchOptions {
  /** The caller's connection holder (the caller closes it). */
  conn: NatsConnectionHolder;
  bucket: string;
  key: string;
  /** Called with each PUT value, in order; a re-delivery after a re-watch arrives again. */
  onPut: (value: Uint8Array) => void;
  /** Runs after the bucket is opened and before each watch is created (e.g. open other stores). */
  beforeWatch?: (js: JetStreamClient) => Promise<void>;
  /**
   * JetStream domain of the hub's NATS when the agent is behind a leaf node: API calls go to
   * `$JS.<domain>.API.…` (the only JetStream a leaf node without its own reaches). Unset: `$JS.API`.
   */
  jsDomain?: string;
  retry?: RetryOptions;
  /** The watch is recreated this often even when nothing seems wrong (default five minutes). */
  rewatchMs?: number;
  /** Transport trouble worth a log line: once per outage, not once per retry. */
  onError?: (err: unknown, during: string) => void;
}

/**
 * Keeps one watch on `key` alive. The watch is recreated after every reconnect, every
 * `rewatchMs`, and whenever it ends or cannot be created: a NATS server (or a bucket) that comes
 * back empty leaves the old watch's consumer resuming at a stream sequence that no longer means
 * anything, and it never sees the new value. A fresh watch delivers the current value first (the
 * caller recognises a re-delivery). Deletes (DEL/PURGE) are not handed over.
 */
export class NatsKeyWatch {
  private readonly backoff: RetryBackoff;
  private stopped = false;
  private stopWatch: (() => void) | undefined;
  private loopDone: Promise<void> | undefined;

  constructor(private readonly opts: NatsKeyWatchOptions) {
    this.backoff = new RetryBackoff(opts.retry ?? DEFAULT_RETRY);
  }

  /** Starts watching; does not wait for NATS. */
  start(): void {
    if (this.loopDone) throw new Error("NatsKeyWatch.start() called twice");
    this.loopDone = this.watchLoop();
  }

  /** Ends the watch at once (synchronously) and resolves when the loop has returned. */
  stop(): Promise<void> {
    this.stopped = true;
    this.stopWatch?.();
    this.backoff.wake();
    return this.loopDone ?? Promise.resolve();
  }

  private async watchLoop(): Promise<void> {
    const { bucket, key } = this.opts;
    // One log line per outage, not one per retry.
    let failing = false;
    while (!this.stopped) {
      let stopStatus: (() => void) | undefined;
      let rewatch: NodeJS.Timeout | undefined;
      try {
        const nc = await this.opts.conn.get();
        // No $JS.API.INFO / stream-info probes: a per-agent account may not be allowed them.
        const js = jetstream(nc, { checkAPI: false, ...(this.opts.jsDomain ? { domain: this.opts.jsDomain } : {}) });
        const kv = await new Kvm(js).open(bucket, { allow_direct: true });
        await this.opts.beforeWatch?.(js);
        const watcher = await kv.watch({ key });
        this.stopWatch = () => watcher.stop();
        if (this.stopped) watcher.stop();
        this.backoff.reset();
        failing = false;
        stopStatus = watchStatus(nc, (s) => {
          if (s.type === "reconnect") watcher.stop();
        });
        rewatch = setTimeout(() => watcher.stop(), this.opts.rewatchMs ?? DEFAULT_REWATCH_MS);
        rewatch.unref();
        for await (const entry of watcher) {
          if (entry.operation === "PUT") this.opts.onPut(entry.value);
        }
      } catch (err) {
        if (!this.stopped && !failing) this.opts.onError?.(err, `watching ${bucket}/${key} (retrying)`);
        failing = true;
      } finally {
        stopStatus?.();
        clearTimeout(rewatch);
        this.stopWatch = undefined;
      }
      if (this.stopped) break;
      await this.backoff.wait();
    }
  }
}
