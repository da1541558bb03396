// The agent's desired state from NATS: watches its own signed pointer in KV, fetches the bundle
// the pointer names from the object store, verifies both, caches them on disk and hands them to
// the reconciler. Bundles come from the cluster's own object store, which NATS permissions let
// only this agent (and the hub) read; still, the agent trusts nothing because of where it came
// from: only the hub's signature and the digest count.
import type { KeyObject } from "node:crypto";
import { ErrorCode, type SignedPointer } from "@flotilla/model";
import { bundleStoreOf, DEFAULT_MAX_BUNDLE_BYTES, desiredKey, sha256Digest, type WireNames } from "@flotilla/wire";
import { DesiredCache } from "./desired-cache.js";
import { NatsBundleStore } from "./nats-bundle-store.js";
import { RetryBackoff, DEFAULT_RETRY, type RetryOptions } from "./nats-backoff.js";
import { NatsConnectionHolder, type NatsConnector } from "./nats-connection.js";
import { checkBundle, checkPointer, samePointer, type TrustContext } from "./nats-desired-verify.js";
import { NatsKeyWatch } from "./nats-key-watch.js";
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
  /**
   * JetStream domain of the hub's NATS when the agent is behind a leaf node: API calls go to
   * `$JS.<domain>.API.…` (the only JetStream a leaf node without its own reaches). Unset: `$JS.API`.
   */
  jsDomain?: string;
  /** Pacing of watch re-creation and bundle fetch retries. */
  retry?: RetryOptions;
  /** A bundle whose object-store size is over this is refused before it is read (default 32 MiB, as the hub's). */
  maxBundleBytes?: number;
  /** The watch is recreated this often even when nothing seems wrong (default five minutes). */
  rewatchMs?: number;
  /** Transport trouble worth a log line (not refusals: those go to onRefused). */
  onError?: (err: unknown, during: string) => void;
}

export { DEFAULT_REWATCH_MS } from "./nats-key-watch.js";

type Handlers = Parameters<DesiredStateSource["start"]>[0];

export class NatsDesiredStateSource implements DesiredStateSource {
  private readonly trust: TrustContext;
  private readonly cache: DesiredCache;
  private readonly conn: NatsConnectionHolder;
  private readonly keyWatch: NatsKeyWatch;
  private readonly fetchBackoffs = new Set<RetryBackoff>();

  private handlers: Handlers | undefined;
  private stopped = false;
  private accepted: VerifiedDesired | undefined;
  /** The authenticated pointer whose bundle is being fetched. */
  private candidate: SignedPointer | undefined;
  /** Raw bytes of the last refused value: a re-delivery (after a re-watch) is not refused twice. */
  private lastRefusedValue: string | undefined;
  private bundles: NatsBundleStore | undefined;
  private saving: Promise<void> = Promise.resolve();

  constructor(private readonly opts: NatsDesiredStateOptions) {
    this.trust = { cluster: opts.cluster, publicKey: opts.publicKey };
    this.cache = new DesiredCache(opts.cacheDir, this.trust);
    this.conn = new NatsConnectionHolder(opts.connection);
    /**
     * Keeps one watch on this cluster's key alive (see NatsKeyWatch): a fresh watch delivers the
     * current pointer first; a re-delivered pointer is recognised and ignored. A deleted pointer
     * (DEL/PURGE) is ignored too: the agent keeps enforcing what it holds.
     */
    this.keyWatch = new NatsKeyWatch({
      conn: this.conn,
      bucket: opts.names.desiredBucket,
      key: desiredKey(opts.cluster),
      beforeWatch: async (js) => {
        this.bundles = await NatsBundleStore.open(js, bundleStoreOf(opts.names, opts.cluster));
      },
      onPut: (value) => this.onPointer(value),
      retry: opts.retry,
      rewatchMs: opts.rewatchMs,
      ...(opts.jsDomain ? { jsDomain: opts.jsDomain } : {}),
      onError: (err, during) => opts.onError?.(err, during),
    });
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
    this.keyWatch.start();
  }

  current(): VerifiedDesired | undefined {
    return this.accepted;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const watchDone = this.keyWatch.stop();
    for (const b of this.fetchBackoffs) b.wake();
    await watchDone;
    await this.saving;
    await this.conn.close();
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
          // The object's size first: reading a huge one whole would take the agent's heap with it.
          const info = this.bundles ? await this.bundles.info(pointer.bundleDigest) : null;
          if (info && !info.deleted && info.size > this.maxBundleBytes) return this.refuseTooLarge(pointer, info.size);
          bytes = info && !info.deleted ? await this.bundles!.read(info) : null;
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
              message: `bundle ${pointer.bundleDigest} for cluster "${pointer.cluster}" generation ${pointer.generation} is not available from object store ${bundleStoreOf(this.opts.names, this.opts.cluster)}${why}; retrying`,
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

  private get maxBundleBytes(): number {
    return this.opts.maxBundleBytes ?? DEFAULT_MAX_BUNDLE_BYTES;
  }

  /** Not retried: the bytes under a digest do not change size. The last verified bundle keeps running. */
  private refuseTooLarge(pointer: SignedPointer, size: number): void {
    if (this.candidate === pointer) this.candidate = undefined;
    this.refuse({
      pointer: { cluster: pointer.cluster, revision: pointer.revision, bundleDigest: pointer.bundleDigest, generation: pointer.generation },
      error: {
        code: ErrorCode.BundleTooLarge,
        message: `bundle ${pointer.bundleDigest} for cluster "${pointer.cluster}" generation ${pointer.generation} is ${size} bytes in object store ${bundleStoreOf(this.opts.names, this.opts.cluster)}, over this agent's limit of ${this.maxBundleBytes} bytes (--max-bundle-bytes); not read, the last verified bundle keeps running`,
      },
    });
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
