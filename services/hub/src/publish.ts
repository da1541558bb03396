// Publishing desired state on NATS: bundles in their cluster's object store under their digest
// (identical bundles are stored once), signed desired pointers in the KV bucket under
// `<cluster>.desired`. One store per cluster so an agent can be allowed to read only its own
// bundles (docs/nats-security.md).
import type { NatsConnection } from "@nats-io/transport-node";
import { Kvm, type KV } from "@nats-io/kv";
import { Objm, type ObjectStore } from "@nats-io/obj";
import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import { ErrorCode, FlotillaError, type Bundle, type DesiredPointer, type SignedPointer } from "@flotilla/model";
import {
  canonicalJson,
  decodeJson,
  DEFAULT_MAX_BUNDLE_BYTES,
  bundleStoreOf,
  desiredKey,
  encodeJson,
  parseBundle,
  parseSignedPointer,
  sha256Digest,
  signPointer,
  type SigningKey,
  type WireNames,
} from "@flotilla/wire";

/** Versions of each pointer the KV bucket keeps (for audit and debugging; agents read the last). */
export const DESIRED_HISTORY = 10;

export interface BundlePublisherOptions {
  nc: NatsConnection;
  names: WireNames;
  /** JetStream replicas of the bucket and the stores when this creates them (default 1). */
  replicas?: number;
  /** Bundles larger than this (canonical JSON bytes) are refused, not stored (default 32 MiB). */
  maxBundleBytes?: number;
  /**
   * Replicas of each cluster's bundle store (default: `replicas`). A store per cluster is a raft
   * group per cluster on a replicated JetStream (bench/streams: ~600 KiB and 0.5 mCPU per cluster
   * at R3, ~130 KiB and 0.01 mCPU at R1). Bundles are derived state — rendered again from Git; a
   * starting hub stores again a bundle its pointer names but the store lacks — so R1 stores trade
   * the bundle's availability while its node is down (agents keep running their last verified
   * bundle; new revisions for those clusters wait for it) for that cost.
   */
  bundleReplicas?: number;
}


/** A cluster's pointer key as read: what a publish replaces, and the revision it compares against. */
export interface PointerHead {
  /** The published pointer; undefined when there is none (never written, or deleted). */
  pointer: SignedPointer | undefined;
  /** The KV revision of the key's last entry (a delete has one too); undefined: never written. */
  revision: number | undefined;
}

export interface PublishStats {
  /** Bundles written to the object store. */
  stored: number;
  /** Bundles already present under their digest, not written again. */
  reused: number;
}

export class BundlePublisher {
  readonly stats: PublishStats = { stored: 0, reused: 0 };
  private kv: KV | undefined;
  /** Each cluster's bundle store, created on its first bundle. */
  private readonly stores = new Map<string, Promise<ObjectStore>>();
  private opening: Promise<void> | undefined;
  private readonly storing = new Map<string, Promise<string>>();

  constructor(private readonly opts: BundlePublisherOptions) {}

  /** Creates (or opens) the desired-pointer bucket. Idempotent. Bundle stores come per cluster, on demand. */
  async ensureResources(): Promise<void> {
    const { nc, names } = this.opts;
    // Direct gets let NATS permissions scope an agent to its own keys (see stack notes).
    const replicas = this.opts.replicas ?? 1;
    this.kv = await new Kvm(nc).create(names.desiredBucket, { history: DESIRED_HISTORY, allow_direct: true, replicas });
  }

  /** Stores a bundle as canonical JSON under its sha256 digest, unless that digest is already there. */
  async publishBundle(bundle: Bundle): Promise<string> {
    const bytes = new TextEncoder().encode(canonicalJson(bundle));
    // Before anything is stored: an agent would have to hold the whole bundle in memory.
    const limit = this.opts.maxBundleBytes ?? DEFAULT_MAX_BUNDLE_BYTES;
    if (bytes.length > limit) {
      throw new FlotillaError(
        ErrorCode.BundleTooLarge,
        `bundle of cluster "${bundle.cluster}" at revision ${bundle.revision} is ${bytes.length} bytes, over the limit of ${limit} bytes (hub maxBundleBytes): split the cluster's apps or drop what it does not need; the cluster keeps its last good pointer`,
        { location: { field: "maxBundleBytes" } },
      );
    }
    const digest = sha256Digest(bytes);
    // Clusters with identical bundles are published concurrently: store each digest once.
    // (A digest names its cluster: the bundle's bytes contain it.)
    const inflight = this.storing.get(digest);
    if (inflight) {
      await inflight;
      this.stats.reused++;
      return digest;
    }
    const stored = this.storeOnce(digest, bundle, bytes).finally(() => this.storing.delete(digest));
    this.storing.set(digest, stored);
    await stored;
    return digest;
  }

  private async storeOnce(digest: string, bundle: Bundle, bytes: Uint8Array): Promise<string> {
    const store = await this.bundleStore(bundle.cluster);
    const existing = await untilStreamExists(() => store.info(digest));
    if (existing && !existing.deleted) {
      this.stats.reused++;
      return digest;
    }
    await store.putBlob({ name: digest, description: `bundle of ${bundle.cluster} at ${bundle.revision}` }, bytes);
    this.stats.stored++;
    return digest;
  }

  /**
   * Reads a cluster's bundle back by digest (undefined when absent), e.g. the one a pointer names;
   * verifies the digest of what it read.
   */
  async readBundle(ref: { cluster: string; bundleDigest: string }): Promise<Bundle | undefined> {
    const digest = ref.bundleDigest;
    const bytes = await (await this.bundleStore(ref.cluster)).getBlob(digest);
    if (!bytes) return undefined;
    if (sha256Digest(bytes) !== digest) {
      throw new FlotillaError(ErrorCode.DigestMismatch, `bundle ${digest} in ${bundleStoreOf(this.opts.names, ref.cluster)} does not match its digest`);
    }
    const raw = decodeJson(bytes);
    if (raw instanceof Error) throw new FlotillaError(ErrorCode.BundleUnavailable, `bundle ${digest}: ${raw.message}`);
    return parseBundle(raw);
  }

  /**
   * Signs and publishes a cluster's desired pointer. The write is a compare-and-set against the
   * pointer it replaces, and a generation not higher than the current one is refused
   * (StaleGeneration): agents would refuse it anyway, and two hubs must not interleave.
   *
   * `head` is the key as the caller read it (readHead) to decide on this pointer: the
   * compare-and-set is against that read, so a pointer published since refuses this one, and the
   * key is not read twice. Without it, the key is read here.
   *
   * `fence` (the leader lease) is asked after the current pointer was read and before the write:
   * a hub that still led after its read can only lose a write to a pointer published since, and
   * the compare-and-set refuses that one (PublishFencedError either way; nothing is written).
   */
  async publishPointer(pointer: DesiredPointer, key: SigningKey, fence?: () => Promise<boolean>, head?: PointerHead): Promise<SignedPointer> {
    const kv = await this.bucket();
    const k = desiredKey(pointer.cluster);
    const signed = signPointer(pointer, key);
    const payload = encodeJson(signed);
    const { pointer: current, revision } = head ?? (await this.readHead(pointer.cluster));
    if (current && current.generation >= pointer.generation) {
      throw new FlotillaError(
        ErrorCode.StaleGeneration,
        `desired pointer of ${pointer.cluster}: generation ${pointer.generation} is not higher than the published ${current.generation}`,
      );
    }
    if (fence && !(await fence())) {
      throw new PublishFencedError(pointer.cluster, "lease", `desired pointer of ${pointer.cluster} (generation ${pointer.generation}) not published: this hub no longer leads`);
    }
    try {
      if (revision !== undefined) await kv.update(k, payload, revision);
      else await kv.create(k, payload);
    } catch (err) {
      if (!isWrongLastSequence(err)) throw err;
      throw new PublishFencedError(pointer.cluster, "revision", `desired pointer of ${pointer.cluster} (generation ${pointer.generation}) not published: another writer published it since revision ${revision ?? 0} was read`, err);
    }
    return signed;
  }

  /** The cluster's published pointer, or undefined when there is none. */
  async readPointer(cluster: string): Promise<SignedPointer | undefined> {
    return (await this.readHead(cluster)).pointer;
  }

  /** The cluster's pointer key as it is now: its pointer and the KV revision to publish over. */
  async readHead(cluster: string): Promise<PointerHead> {
    const entry = await (await this.bucket()).get(desiredKey(cluster));
    if (!entry) return { pointer: undefined, revision: undefined };
    return { pointer: entry.operation === "PUT" ? this.decodePointer(entry.value, cluster) : undefined, revision: entry.revision };
  }

  private decodePointer(bytes: Uint8Array, cluster: string): SignedPointer | undefined {
    const raw = decodeJson(bytes);
    if (raw instanceof Error) throw new FlotillaError(ErrorCode.ReportInvalid, `desired pointer of ${cluster} in KV is not JSON: ${raw.message}`);
    return parseSignedPointer(raw);
  }

  /** ensureResources once, however many publishes ask for it at the same time. */
  private async opened(): Promise<void> {
    this.opening ??= this.ensureResources().catch((err: unknown) => {
      this.opening = undefined;
      throw err;
    });
    await this.opening;
  }

  private async bucket(): Promise<KV> {
    if (!this.kv) await this.opened();
    return this.kv!;
  }

  /** The cluster's bundle store, created once per publisher (idempotent on the server too). */
  private bundleStore(cluster: string): Promise<ObjectStore> {
    let store = this.stores.get(cluster);
    if (!store) {
      store = new Objm(this.opts.nc).create(bundleStoreOf(this.opts.names, cluster), { replicas: this.opts.bundleReplicas ?? this.opts.replicas ?? 1 });
      // A failed create is retried by the next call, not remembered.
      store.catch(() => this.stores.delete(cluster));
      this.stores.set(cluster, store);
    }
    return store;
  }
}

/**
 * A pointer that was not published because another hub may have published since: this hub lost
 * the leader lease ("lease"), or the key moved past the revision this hub read ("revision").
 * An outcome, not a crash: the resolver logs it and leaves the cluster to the leader.
 */
export class PublishFencedError extends FlotillaError {
  override readonly name = "PublishFencedError";
  constructor(
    /** The cluster whose pointer was not published ("*": none of the revision's). */
    readonly cluster: string,
    readonly by: "lease" | "revision",
    message: string,
    cause?: unknown,
  ) {
    super(by === "lease" ? ErrorCode.NotLeader : ErrorCode.StaleGeneration, message, cause === undefined ? {} : { cause });
  }
}

/** The KV refused a create/update because the key's last revision is not the one given. */
export function isWrongLastSequence(err: unknown): boolean {
  // update(): JetStreamApiError 10071 (10164 when the server does not know the sequence);
  // create() of a key that exists meanwhile rejects with its own "wrong last sequence" error.
  const code = (err as { code?: unknown } | undefined)?.code;
  return code === 10071 || code === 10164 || /wrong last sequence|key exists/i.test(String((err as Error | undefined)?.message ?? ""));
}

/** Tries of a call on a just-created store that a clustered JetStream does not know yet. */
const STREAM_APPEAR_TRIES = 20;

/**
 * On a clustered JetStream (R3), a store created a moment ago can still be unknown to the member
 * that answers the next call ("stream not found", seen on fresh stores at 1,000 clusters in bench/streams): wait
 * for it briefly (about 2 s) instead of failing that cluster's publish for a whole resolve retry.
 */
async function untilStreamExists<T>(call: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      const missing = err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound;
      if (!missing || attempt >= STREAM_APPEAR_TRIES) throw err;
      await new Promise((r) => setTimeout(r, Math.min(200, 20 * attempt)));
    }
  }
}
