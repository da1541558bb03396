// Reading a bundle from the cluster's object store. The store's own get() opens an ordered push
// consumer for every read (a JetStream API call to create it, flow control, idle heartbeats, its
// removal) and hashes the bytes in JS; on a fleet-wide commit every agent reads at the same
// moment, so the server creates and drops a thousand consumers in a second. A bundle up to one
// chunk (128 KiB by default: nearly every bundle) is one stored message instead: one message get,
// which the agent's NATS permissions already allow on its own store. Larger objects keep the
// consumer. Either way the caller checks the bytes against the signed pointer's digest.
import { objectChunksSubjectOf, objectStoreStreamOf } from "@flotilla/wire";
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import { Objm, type ObjectInfo, type ObjectStore } from "@nats-io/obj";

export class NatsBundleStore {
  private constructor(
    private readonly store: ObjectStore,
    private readonly jsm: JetStreamManager,
    private readonly name: string,
  ) {}

  /** Opens the store `name` (not created: the hub creates it with the cluster's first bundle). */
  static async open(js: JetStreamClient, name: string): Promise<NatsBundleStore> {
    const store = await new Objm(js).open(name, false);
    return new NatsBundleStore(store, await js.jetstreamManager(false), name);
  }

  /** The object's metadata (size, chunks), null when it is not stored. */
  info(digest: string): Promise<ObjectInfo | null> {
    return this.store.info(digest);
  }

  /** The object's bytes, null when it is gone (deleted or replaced since `info`). */
  async read(info: ObjectInfo): Promise<Uint8Array | null> {
    if (info.deleted) return null;
    if (info.size === 0) return new Uint8Array(0);
    if (info.chunks !== 1 || info.options?.link) return this.store.getBlob(info.name);
    const chunk = await this.jsm.streams.getMessage(objectStoreStreamOf(this.name), { last_by_subj: objectChunksSubjectOf(this.name, info.nuid) });
    return chunk ? chunk.data : null;
  }
}
