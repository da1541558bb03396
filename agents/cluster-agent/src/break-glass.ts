// Break-glass on the agent: watches this cluster's control record (`<cluster>.control` in the
// desired-state bucket, only its own key), accepts it only when the hub signed it for this cluster
// with a generation higher than the one held, and answers the reconciler's question "does a window
// cover this object?" with the agent's own clock — so a window ends at its expiry even when the
// hub or NATS is away. When windows end or expire, onChange lets the reconciler re-check drift at
// once: enforcement resumes by itself.
//
// A record signed by any other key is refused (reported to onRefused): anyone who can write the KV
// bucket could otherwise silence enforcement. A deleted key is ignored like an unsigned statement:
// the held windows run to their expiry. The record is not cached on disk: an agent restarted while
// NATS is away holds no window and enforces everything (the safe side).
import type { KeyObject } from "node:crypto";
import { ErrorCode, toErrorInfo, windowCovers, type BreakGlassWindow, type SignedControlRecord } from "@flotilla/model";
import { controlKey, decodeJson, keyIdOf, parseSignedControl, verifyControl, type WireNames } from "@flotilla/wire";
import type { RetryOptions } from "./nats-backoff.js";
import { NatsConnectionHolder, type NatsConnector } from "./nats-connection.js";
import { NatsKeyWatch } from "./nats-key-watch.js";
import type { Refusal } from "./ports.js";
import type { BreakGlassView } from "./reconciler.js";

export interface BreakGlassWatchOptions {
  /** An open connection (the caller owns it) or a factory, shared with the other adapters. */
  connection: NatsConnector;
  names: WireNames;
  /**
   * JetStream domain of the hub's NATS when the agent is behind a leaf node: API calls go to
   * `$JS.<domain>.API.…` (the only JetStream a leaf node without its own reaches). Unset: `$JS.API`.
   */
  jsDomain?: string;
  cluster: string;
  /** The hub's ed25519 public key: the only signer of control records the agent accepts. */
  publicKey: KeyObject;
  /** Called when the set of windows changes (a record accepted, a window expired). */
  onChange?: () => void;
  /** A control record was refused (bad signature, other cluster, stale generation, malformed). */
  onRefused?: (r: Refusal) => void;
  /** Transport trouble worth a log line. */
  onError?: (err: unknown, during: string) => void;
  retry?: RetryOptions;
  rewatchMs?: number;
  /** The agent's clock in ms (default Date.now): expiry is decided by it. */
  clock?: () => number;
}

/** setTimeout's ceiling (~24.8 days); longer delays are re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export type ControlCheck = { ok: true; record: SignedControlRecord } | { ok: false; refusal: Refusal };

/** Parses and authenticates a control record for `cluster`. Pure; failures are refusals. */
export function checkControlRecord(bytes: Uint8Array, cluster: string, publicKey: KeyObject): ControlCheck {
  const refuse = (code: ErrorCode, message: string): ControlCheck => ({ ok: false, refusal: { error: { code, message } } });
  const raw = decodeJson(bytes);
  if (raw instanceof Error) return refuse(ErrorCode.ReportInvalid, `break-glass control record of cluster "${cluster}" is not JSON: ${raw.message}`);
  const signature = (raw as { signature?: unknown } | null)?.signature;
  if (typeof signature !== "string" || signature.length === 0) {
    return refuse(ErrorCode.SignatureInvalid, `break-glass control record of cluster "${cluster}" is unsigned; only records signed by the hub suspend enforcement`);
  }
  let record: SignedControlRecord;
  try {
    record = parseSignedControl(raw);
  } catch (err) {
    return { ok: false, refusal: { error: toErrorInfo(err, ErrorCode.ReportInvalid) } };
  }
  if (record.cluster !== cluster || record.windows.some((w) => w.cluster !== cluster)) {
    return refuse(ErrorCode.SignatureInvalid, `break-glass control record is for cluster "${record.cluster}", not "${cluster}"`);
  }
  if (!verifyControl(record, publicKey)) {
    const trusted = keyIdOf(publicKey);
    const which = record.keyId === trusted ? "" : ` (record names key ${record.keyId}, the agent trusts key ${trusted})`;
    return refuse(
      ErrorCode.SignatureInvalid,
      `signature of the break-glass control record of cluster "${cluster}" generation ${record.generation} does not verify with the hub key${which}; its windows are ignored`,
    );
  }
  return { ok: true, record };
}

export class BreakGlassWatch implements BreakGlassView {
  /** Accepted and refused records (tests, metrics). */
  readonly counters = { accepted: 0, refused: 0 };
  private readonly conn: NatsConnectionHolder;
  private readonly keyWatch: NatsKeyWatch;
  private readonly clock: () => number;
  private held: SignedControlRecord | undefined;
  private windows: BreakGlassWindow[] = [];
  private lastRefusedValue: string | undefined;
  private lastRefusal: Refusal | undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  private started = false;
  private stopped = false;

  constructor(private readonly opts: BreakGlassWatchOptions) {
    this.conn = new NatsConnectionHolder(opts.connection);
    this.clock = opts.clock ?? Date.now;
    // Same watch discipline as the desired pointer (nats-desired-state.ts): re-watch after every
    // reconnect, every rewatchMs, and whenever the watch ends; a re-delivered record is ignored.
    this.keyWatch = new NatsKeyWatch({
      conn: this.conn,
      bucket: opts.names.desiredBucket,
      key: controlKey(opts.cluster),
      ...(opts.jsDomain ? { jsDomain: opts.jsDomain } : {}),
      onPut: (value) => this.onRecord(value),
      retry: opts.retry,
      rewatchMs: opts.rewatchMs,
      onError: (err, during) => opts.onError?.(err, during),
    });
  }

  /** Starts watching; does not wait for NATS. */
  start(): void {
    if (this.started) throw new Error("BreakGlassWatch.start() called twice");
    this.started = true;
    this.keyWatch.start();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const watchDone = this.keyWatch.stop();
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    await watchDone;
    await this.conn.close();
  }

  covers(app: string, key: string): boolean {
    if (this.windows.length === 0) return false;
    const now = this.clock();
    return this.windows.some((w) => windowCovers(w, app, key, now));
  }

  /** Windows in force now by the agent's clock. */
  active(): BreakGlassWindow[] {
    const now = this.clock();
    return this.windows.filter((w) => Date.parse(w.expiresAt) > now);
  }

  /** Generation of the record held (0 before the first). */
  get generation(): number {
    return this.held?.generation ?? 0;
  }

  /** The last refusal (undefined once a record is accepted after it). */
  get refusal(): Refusal | undefined {
    return this.lastRefusal;
  }

  private onRecord(value: Uint8Array): void {
    const checked = checkControlRecord(value, this.opts.cluster, this.opts.publicKey);
    if (!checked.ok) return this.refuse(value, checked.refusal);
    const record = checked.record;
    const held = this.held;
    if (held && record.generation === held.generation && record.signature === held.signature) return; // re-delivered
    if (held && record.generation <= held.generation) {
      return this.refuse(value, {
        error: {
          code: ErrorCode.StaleGeneration,
          message: `break-glass control record generation ${record.generation} of cluster "${this.opts.cluster}" is not higher than generation ${held.generation} the agent holds; a replayed record cannot reopen a window`,
        },
      });
    }
    this.held = record;
    this.windows = record.windows.filter((w) => w.endedAt === undefined);
    this.lastRefusedValue = undefined;
    this.lastRefusal = undefined;
    this.counters.accepted++;
    this.armExpiry();
    this.changed();
  }

  /** Wakes up at the next expiry so enforcement resumes then, not at the next watch event. */
  private armExpiry(): void {
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    if (this.stopped) return;
    const now = this.clock();
    const next = Math.min(...this.windows.map((w) => Date.parse(w.expiresAt)).filter((t) => t > now));
    if (!Number.isFinite(next)) return;
    this.expiryTimer = setTimeout(() => {
      this.expiryTimer = undefined;
      const at = this.clock();
      const before = this.windows.length;
      this.windows = this.windows.filter((w) => Date.parse(w.expiresAt) > at);
      this.armExpiry();
      if (this.windows.length !== before) this.changed();
    }, Math.min(MAX_TIMER_MS, next - now + 1));
    this.expiryTimer.unref();
  }

  private changed(): void {
    try {
      this.opts.onChange?.();
    } catch (err) {
      this.opts.onError?.(err, "break-glass onChange handler");
    }
  }

  private refuse(value: Uint8Array, refusal: Refusal): void {
    const key = Buffer.from(value).toString("base64");
    if (key === this.lastRefusedValue) return;
    this.lastRefusedValue = key;
    this.lastRefusal = refusal;
    this.counters.refused++;
    try {
      this.opts.onRefused?.(refusal);
    } catch (err) {
      this.opts.onError?.(err, "break-glass onRefused handler");
    }
  }
}
