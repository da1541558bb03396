// Reports to the hub over JetStream, at least once and in order. Every report gets a unique id
// that doubles as the JetStream message id, so a retry after a lost ack is de-duplicated by the
// stream (within its duplicate window) and by the hub (always, by id).
//
// Queue bound (maxPending): status and drift reports are never dropped — they are the record of
// what the agent did. Heartbeats only say "still alive at generation N", so when the queue holds
// more than maxPending reports every heartbeat but the newest is coalesced away. The queue can
// therefore exceed maxPending only by status and drift reports.
//
// Trace context: a report queued inside a span (a reconcile, a revert) is published with that
// span's W3C traceparent in its message headers, so the hub's ingest span joins the same trace.
// The context is kept in memory only: reports reloaded from the spool after a restart go without.
import { randomUUID } from "node:crypto";
import { context } from "@opentelemetry/api";
import type { Report } from "@flotilla/model";
import { encodeJson, injectTraceContext, reportSubject, type WireNames } from "@flotilla/wire";
import { jetstream, type JetStreamClient } from "@nats-io/jetstream";
import { headers, type MsgHdrs, type NatsConnection } from "@nats-io/transport-node";
import { RetryBackoff, DEFAULT_RETRY, type RetryOptions } from "./nats-backoff.js";
import { NatsConnectionHolder, watchStatus, type NatsConnector } from "./nats-connection.js";
import { ReportSpool } from "./nats-report-spool.js";
import type { DriftBody, HeartbeatBody, Reporter, StatusBody } from "./ports.js";

export interface NatsReporterOptions {
  /** An open connection (the caller owns and closes it) or a factory, e.g. `() => connectAgentNats({...})`. */
  connection: NatsConnector;
  names: WireNames;
  cluster: string;
  /** Agent identity carried in every report: `<cluster>/<hostname or pod>/<pid>`. */
  agent: string;
  /** Directory of the spool file; without it reports queued during an outage die with the process. */
  spoolDir?: string;
  /** Queue size above which heartbeats are coalesced (see the file comment). */
  maxPending?: number;
  retry?: RetryOptions;
  /** How long one publish waits for JetStream's ack before it is retried. */
  publishTimeoutMs?: number;
  /** Transport and spool trouble worth a log line; reporting carries on regardless. */
  onError?: (err: unknown, during: string) => void;
}

export const DEFAULT_MAX_PENDING = 1_000;
/** Done ids after which the spool is compacted even though the queue has not drained. */
const COMPACT_AFTER = 256;

export class NatsReporter implements Reporter {
  private readonly conn: NatsConnectionHolder;
  private readonly spool: ReportSpool | undefined;
  private readonly backoff: RetryBackoff;
  private readonly maxPending: number;
  private readonly queue: Report[];
  private flushers: { resolve(): void; reject(e: Error): void }[] = [];
  /** Trace context headers of queued reports, by report id (only those queued inside a span). */
  private readonly traceHeaders = new Map<string, MsgHdrs>();
  private wakeIdle: (() => void) | undefined;
  private stopped = false;
  private doneSinceCompaction = 0;
  private readonly loopDone: Promise<void>;

  /** Loads the spool (reports left by a previous run go first) and starts publishing. */
  constructor(private readonly opts: NatsReporterOptions) {
    this.conn = new NatsConnectionHolder(opts.connection);
    this.backoff = new RetryBackoff(opts.retry ?? DEFAULT_RETRY);
    this.maxPending = Math.max(1, opts.maxPending ?? DEFAULT_MAX_PENDING);
    this.spool = opts.spoolDir ? new ReportSpool(opts.spoolDir, opts.cluster, (e, d) => this.opts.onError?.(e, d)) : undefined;
    this.queue = this.spool?.load() ?? [];
    if (this.queue.length > this.maxPending) this.coalesceHeartbeats();
    if (this.spool && this.queue.length > 0) this.spool.rewrite(this.queue);
    this.loopDone = this.sendLoop();
  }

  status(body: StatusBody): void {
    this.enqueue({ ...body, ...this.header(), kind: "status" });
  }

  drift(body: DriftBody): void {
    this.enqueue({ ...body, ...this.header(), kind: "drift" });
  }

  heartbeat(body: HeartbeatBody): void {
    this.enqueue({ ...body, ...this.header(), kind: "heartbeat" });
  }

  pending(): number {
    return this.queue.length;
  }

  flush(): Promise<void> {
    if (this.queue.length === 0) return Promise.resolve();
    if (this.stopped) return Promise.reject(new Error(`reporter stopped with ${this.queue.length} report(s) pending`));
    return new Promise((resolve, reject) => this.flushers.push({ resolve, reject }));
  }

  /** Stops publishing; pending reports stay in the spool for the next run. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.backoff.wake();
    this.wakeIdle?.();
    await this.loopDone;
    await this.conn.close();
    const left = this.queue.length;
    for (const f of this.flushers.splice(0)) {
      f.reject(new Error(`reporter stopped with ${left} report(s) pending${this.spool ? ` (kept in ${this.spool.path})` : ""}`));
    }
  }

  private header(): { id: string; cluster: string; agent: string; at: string } {
    return { id: randomUUID(), cluster: this.opts.cluster, agent: this.opts.agent, at: new Date().toISOString() };
  }

  private enqueue(report: Report): void {
    try {
      this.queue.push(report);
      const traced = injectTraceContext(headers(), context.active());
      if (traced.has("traceparent")) this.traceHeaders.set(report.id, traced);
      this.spool?.add(report);
      if (this.queue.length > this.maxPending) this.coalesceHeartbeats();
      this.wakeIdle?.();
    } catch (err) {
      // Never throws to the reconciler; the report is in the queue (the push cannot fail).
      this.opts.onError?.(err, "queueing a report");
    }
  }

  /** Over the bound: keep only the newest heartbeat. */
  private coalesceHeartbeats(): void {
    let newest = -1;
    for (let i = this.queue.length - 1; i >= 0; i--) {
      if (this.queue[i]?.kind === "heartbeat") {
        newest = i;
        break;
      }
    }
    const dropped: string[] = [];
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const r = this.queue[i];
      if (r?.kind === "heartbeat" && i !== newest) {
        dropped.push(r.id);
        this.traceHeaders.delete(r.id);
        this.queue.splice(i, 1);
      }
    }
    this.markDone(dropped);
  }

  private async sendLoop(): Promise<void> {
    let js: { nc: NatsConnection; client: JetStreamClient } | undefined;
    let stopStatus: (() => void) | undefined;
    // One log line per outage, not one per retry.
    let failing = false;
    while (!this.stopped) {
      const head = this.queue[0];
      if (!head) {
        await new Promise<void>((resolve) => (this.wakeIdle = resolve));
        this.wakeIdle = undefined;
        continue;
      }
      try {
        const nc = await this.conn.get();
        if (js?.nc !== nc) {
          stopStatus?.();
          // After a reconnect retry at once instead of finishing a long backoff.
          stopStatus = watchStatus(nc, (s) => {
            if (s.type === "reconnect") this.backoff.wake();
          });
          js = { nc, client: jetstream(nc) };
        }
        await js.client.publish(reportSubject(this.opts.names, this.opts.cluster, head.kind), encodeJson(head), {
          msgID: head.id,
          timeout: this.opts.publishTimeoutMs ?? 5_000,
          ...this.headersOf(head.id),
        });
        this.backoff.reset();
        failing = false;
        const at = this.queue.indexOf(head);
        if (at >= 0) this.queue.splice(at, 1);
        this.traceHeaders.delete(head.id);
        this.markDone([head.id]);
        if (this.queue.length === 0) for (const f of this.flushers.splice(0)) f.resolve();
      } catch (err) {
        if (this.stopped) break;
        if (!failing) this.opts.onError?.(err, `publishing ${head.kind} report ${head.id} (retrying until acknowledged)`);
        failing = true;
        await this.backoff.wait();
      }
    }
    stopStatus?.();
  }

  /** Headers with the report's trace context; JetStream adds Nats-Msg-Id from msgID itself. */
  private headersOf(id: string): { headers?: MsgHdrs } {
    const h = this.traceHeaders.get(id);
    return h ? { headers: h } : {};
  }

  private markDone(ids: string[]): void {
    if (!this.spool || ids.length === 0) return;
    this.doneSinceCompaction += ids.length;
    if (this.queue.length === 0 || this.doneSinceCompaction >= COMPACT_AFTER) {
      this.spool.rewrite(this.queue);
      this.doneSinceCompaction = 0;
    } else {
      this.spool.done(ids);
    }
  }
}
