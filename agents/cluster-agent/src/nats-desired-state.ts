// The agent's desired state from NATS: watches its own signed pointer in KV, fetches the bundle
// the pointer names from the object store, verifies both, caches them on disk and hands them to
// the reconciler. The agent trusts nothing because of where it came from (object store reads
// cannot be scoped per cluster on NATS 2.9): only the hub's signature and the digest count.
import type { KeyObject } from "node:crypto";
import { ErrorCode, type SignedPointer } from "@flotilla/model";
import { desiredKey, sha256Digest, type WireNames } from "@flotilla/wire";
import { jetstream } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { Objm, type ObjectStore } from "@nats-io/obj";
import { DesiredCache } from "./desired-cache.js";
import { RetryBackoff, DEFAULT_RETRY, type RetryOptions } from "./nats-backoff.js";
import { NatsConnectionHolder, watchStatus, type NatsConnector } from "./nats-connection.js";
import { checkBundle, checkPointer, samePointer, type TrustContext } from "./nats-desired-verify.js";
import type { DesiredStateSource, Refusal, VerifiedDesired } from "./ports.js";

export interface NatsDesiredStateOptions {
  /** An open connection (the caller owns and closes it) or a factory, e.g. `() => connectAgentNats({...})`. */
  connection: NatsConnector;
  names: WireNames;
  cluster: string;
  /** The hub's ed25519 public key: the only signer the agent accepts. */
  publicKey: KeyObject;
  /** Directory of the local cache of the last verified pointer and bundle. */
  cacheDir: string;
  /** Pacing of watch re-creation and bundle fetch retries. */
  retry?: RetryOptions;
  /** The watch is recreated this often even when nothing seems wrong (default five minutes). */
  rewatchMs?: number;
  /** Transport trouble worth a log line (not refusals: those go to onRefused). */
  onError?: (err: unknown, during: string) => void;
}

export const DEFAULT_REWATCH_MS = 5 * 60_000;

type Handlers = Parameters<DesiredStateSource["start"]>[0];

export class NatsDesiredStateSource implements DesiredStateSource {
  private readonly trust: TrustContext;
  private readonly cache: DesiredCache;
  private readonly conn: NatsConnectionHolder;
  private readonly watchBackoff: RetryBackoff;
  private readonly fetchBackoffs = new Set<RetryBackoff>();

  private handlers: Handlers | undefined;
  private stopped = false;
  private accepted: VerifiedDesired | undefined;
  /** The authenticated pointer whose bundle is being fetched. */
  private candidate: SignedPointer | undefined;
  /** Raw bytes of the last refused value: a re-delivery (after a re-watch) is not refused twice. */
  private lastRefusedValue: string | undefined;
  private bundles: ObjectStore | undefined;
  private stopWatch: (() => void) | undefined;
  private watchLoopDone: Promise<void> | undefined;
  private saving: Promise<void> = Promise.resolve();

  constructor(private readonly opts: NatsDesiredStateOptions) {
    this.trust = { cluster: opts.cluster, publicKey: opts.publicKey };
    this.cache = new DesiredCache(opts.cacheDir, this.trust);
    this.conn = new NatsConnectionHolder(opts.connection);
    this.watchBackoff = new RetryBackoff(opts.retry ?? DEFAULT_RETRY);
  }

  async start(handlers: Handlers): Promise<void> {
    if (this.handlers) throw new Error("NatsDesiredStateSource.start() called twice");
    this.handlers = handlers;
    // 1. The cached desired state first, so the agent enforces it while NATS is away.
    const cached = await this.cache.load();
    if (cached.found && "desired" in cached) {
      this.accepted = cached.desired;
      this.deliver(cached.desired);
    } else if (cached.found) {
      this.refuse(cached.refusal);
    }
    // 2. Then the live pointer; start() does not wait for NATS.
    this.watchLoopDone = this.watchLoop();
  }

  current(): VerifiedDesired | undefined {
    return this.accepted;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.stopWatch?.();
    this.watchBackoff.wake();
    for (const b of this.fetchBackoffs) b.wake();
    await this.watchLoopDone;
    await this.saving;
    await this.conn.close();
  }

  /**
   * Keeps one watch on this cluster's key alive. The watch is recreated after every reconnect,
   * every `rewatchMs`, and whenever it ends or cannot be created: a NATS server (or a bucket) that
   * comes back empty leaves the old watch's consumer resuming at a stream sequence that no longer
   * means anything, and it never sees the new pointer. A fresh watch delivers the current pointer
   * first; a re-delivered pointer is recognised and ignored. A deleted pointer (DEL/PURGE) is
   * ignored too: the agent keeps enforcing what it holds.
   */
  private async watchLoop(): Promise<void> {
    // One log line per outage, not one per retry.
    let failing = false;
    while (!this.stopped) {
      let stopStatus: (() => void) | undefined;
      let rewatch: NodeJS.Timeout | undefined;
      try {
        const nc = await this.conn.get();
        // No $JS.API.INFO / stream-info probes: a per-agent account may not be allowed them.
        const js = jetstream(nc, { checkAPI: false });
        const kv = await new Kvm(js).open(this.opts.names.desiredBucket, { allow_direct: true });
        this.bundles = await new Objm(js).open(this.opts.names.bundleStore, false);
        const watcher = await kv.watch({ key: desiredKey(this.opts.cluster) });
        this.stopWatch = () => watcher.stop();
        if (this.stopped) watcher.stop();
        this.watchBackoff.reset();
        failing = false;
        stopStatus = watchStatus(nc, (s) => {
          if (s.type === "reconnect") watcher.stop();
        });
        rewatch = setTimeout(() => watcher.stop(), this.opts.rewatchMs ?? DEFAULT_REWATCH_MS);
        rewatch.unref();
        for await (const entry of watcher) {
          if (entry.operation === "PUT") this.onPointer(entry.value);
        }
      } catch (err) {
        if (!this.stopped && !failing) this.opts.onError?.(err, `watching ${this.opts.names.desiredBucket}/${desiredKey(this.opts.cluster)} (retrying)`);
        failing = true;
      } finally {
        stopStatus?.();
        clearTimeout(rewatch);
        this.stopWatch = undefined;
      }
      if (this.stopped) break;
      await this.watchBackoff.wait();
    }
  }

  /** Authenticates a pointer and decides whether it supersedes what the agent holds. */
  private onPointer(value: Uint8Array): void {
    const checked = checkPointer(value, this.trust);
    if (!checked.ok) return this.refuseValue(value, checked.refusal);
    const pointer = checked.value;
    const held = this.accepted?.pointer;
    if (samePointer(pointer, held) || samePointer(pointer, this.candidate)) return;
    const floor = Math.max(held?.generation ?? 0, this.candidate?.generation ?? 0);
    if (pointer.generation <= floor) {
      return this.refuseValue(value, {
        pointer: { cluster: pointer.cluster, revision: pointer.revision, bundleDigest: pointer.bundleDigest, generation: pointer.generation },
        error: {
          code: ErrorCode.StaleGeneration,
          message: `desired pointer generation ${pointer.generation} for cluster "${pointer.cluster}" is not higher than generation ${floor} the agent holds; a replayed pointer cannot roll the cluster back`,
        },
      });
    }
    this.candidate = pointer;
    this.lastRefusedValue = undefined;
    void this.fetchAndAccept(pointer);
  }

  /**
   * Fetches the pointer's bundle, verifies, caches, delivers. Retries with backoff while the
   * bundle is not stored yet and while the bytes under its name do not hash to the digest (the
   * hub may store the right bytes again); each of the two is reported once per pointer.
   */
  private async fetchAndAccept(pointer: SignedPointer): Promise<void> {
    const backoff = new RetryBackoff(this.opts.retry ?? DEFAULT_RETRY);
    this.fetchBackoffs.add(backoff);
    let bytes: Uint8Array | null = null;
    let reportedUnavailable = false;
    let reportedMismatch = false;
    try {
      while (!this.stopped && this.candidate === pointer) {
        let failure: unknown;
        bytes = null;
        try {
          bytes = this.bundles ? await this.bundles.getBlob(pointer.bundleDigest) : null;
        } catch (err) {
          failure = err;
        }
        if (this.stopped || this.candidate !== pointer) break;
        if (bytes && sha256Digest(bytes) === pointer.bundleDigest) break;
        if (bytes && !reportedMismatch) {
          reportedMismatch = true;
          const mismatch = checkBundle(pointer, bytes, this.trust);
          if (!mismatch.ok) this.refuse(mismatch.refusal);
        }
        if (!bytes && !reportedUnavailable) {
          reportedUnavailable = true;
          const why = failure instanceof Error ? `: ${failure.message}` : failure ? `: ${String(failure)}` : this.bundles ? " (not stored yet)" : " (NATS unreachable)";
          this.refuse({
            pointer: { cluster: pointer.cluster, revision: pointer.revision, bundleDigest: pointer.bundleDigest, generation: pointer.generation },
            error: {
              code: ErrorCode.BundleUnavailable,
              message: `bundle ${pointer.bundleDigest} for cluster "${pointer.cluster}" generation ${pointer.generation} is not available from object store ${this.opts.names.bundleStore}${why}; retrying`,
            },
          });
        }
        await backoff.wait();
      }
    } finally {
      this.fetchBackoffs.delete(backoff);
    }
    if (!bytes || this.stopped || this.candidate !== pointer) return;

    const bundle = checkBundle(pointer, bytes, this.trust);
    if (!bundle.ok) {
      if (this.candidate === pointer) this.candidate = undefined;
      return this.refuse(bundle.refusal);
    }
    const verified: VerifiedDesired = { pointer, bundle: bundle.value };
    const fetched = bytes;
    // Saves are chained so the file on disk ends with the newest accepted state.
    this.saving = this.saving.then(() =>
      this.cache.save(pointer, fetched).catch((err: unknown) => this.opts.onError?.(err, `caching desired state in ${this.cache.path}`)),
    );
    await this.saving;
    if (this.stopped) return;
    if (this.candidate === pointer) this.candidate = undefined;
    // A newer pointer may have been accepted meanwhile; never go back.
    if (this.accepted && this.accepted.pointer.generation >= pointer.generation) return;
    this.accepted = verified;
    this.deliver(verified);
  }

  private refuseValue(value: Uint8Array, refusal: Refusal): void {
    const key = Buffer.from(value).toString("base64");
    if (key === this.lastRefusedValue) return;
    this.lastRefusedValue = key;
    this.refuse(refusal);
  }

  private deliver(d: VerifiedDesired): void {
    try {
      this.handlers?.onDesired(d);
    } catch (err) {
      this.opts.onError?.(err, "onDesired handler");
    }
  }

  private refuse(r: Refusal): void {
    try {
      this.handlers?.onRefused(r);
    } catch (err) {
      this.opts.onError?.(err, "onRefused handler");
    }
  }
}
