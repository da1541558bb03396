// The agent's view of what it applied: one watch per kind it manages (per namespace for a tenant
// agent), label-selected to its own cluster's objects. Memory stays bounded by the bundle: only
// objects the reconciler is interested in (those it applied) are kept, a kind that is no longer
// used has its watch stopped and its objects dropped, and no kind outside the bundle is ever
// watched. Watches restart with backoff on any error and relist periodically (libs/kube).
import type { KubeClient, WatchEvent, WatchHandle } from "@flotilla/kube";
import { Label } from "@flotilla/kube";
import { refKey, refOf, type KubeObject } from "@flotilla/model";

export interface WatchedKind {
  apiVersion: string;
  kind: string;
  /** Tenant agents watch per namespace; cluster agents watch cluster-wide. */
  namespace?: string;
}

export interface LiveObjectsOptions {
  /** Relist each watch this often even without errors (default: libs/kube's, 10 min). */
  relistIntervalMs?: number;
  /** Backoff bounds of a failing watch (default: libs/kube's, 200 ms doubling to 30 s). */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** How long watchOnly waits for new watches' first lists (default 30 s). */
  syncTimeoutMs?: number;
}

/** True when `a` is an older state than `b` of the same object. An event can arrive after the
 * agent already remembered the response of its own later write (a revert or re-create); letting it
 * overwrite that would show a drift that is already gone. resourceVersions are etcd revisions:
 * opaque by contract, integers in every apiserver backed by etcd; anything else is never older. */
function isOlder(a: KubeObject, b: KubeObject | undefined): boolean {
  if (!b) return false;
  const ra = a.metadata["resourceVersion"];
  const rb = b.metadata["resourceVersion"];
  if (typeof ra !== "string" || typeof rb !== "string" || !/^\d+$/.test(ra) || !/^\d+$/.test(rb)) return false;
  return BigInt(ra) < BigInt(rb);
}

const kindKey = (k: WatchedKind): string => `${k.apiVersion}|${k.kind}|${k.namespace ?? ""}`;

export class LiveObjects {
  private readonly watches = new Map<string, { kind: WatchedKind; handle: WatchHandle }>();
  private readonly objects = new Map<string, KubeObject>();

  constructor(
    private readonly client: KubeClient,
    private readonly cluster: string,
    /** Objects outside this predicate are neither kept nor passed on (watches see every object
     * of a kind labelled to this cluster, e.g. ones another app or a kept prune left behind). */
    private readonly interested: (key: string) => boolean,
    private readonly onEvent: (event: WatchEvent, key: string) => void,
    private readonly onError: (err: Error, kind: WatchedKind) => void,
    private readonly opts: LiveObjectsOptions = {},
  ) {}

  get(key: string): KubeObject | undefined {
    return this.objects.get(key);
  }

  /** Number of objects held (tests and metrics: memory is bounded by the bundle). */
  get size(): number {
    return this.objects.size;
  }

  /** Kinds watched now (tests and metrics). */
  watched(): WatchedKind[] {
    return [...this.watches.values()].map((w) => w.kind);
  }

  /** Remembers an object we just wrote, so status and drift checks see it before its event.
   * Never over a newer state: the watch may already have delivered later changes (a rollout's
   * status) before the write's response is handled, and no later event would correct it. */
  remember(o: KubeObject): void {
    const key = refKey(refOf(o));
    if (!isOlder(o, this.objects.get(key))) this.objects.set(key, o);
  }

  /** Drops every object the reconciler no longer manages. */
  retainInterested(): void {
    for (const key of [...this.objects.keys()]) if (!this.interested(key)) this.objects.delete(key);
  }

  /** Watches exactly these kinds: starts the missing watches, stops the others. Resolves once
   * every new watch has delivered its first list. */
  async watchOnly(kinds: WatchedKind[]): Promise<void> {
    const wanted = new Map(kinds.map((k) => [kindKey(k), k]));
    const stopping: Promise<void>[] = [];
    for (const [key, w] of this.watches) {
      if (!wanted.has(key)) {
        this.watches.delete(key);
        stopping.push(w.handle.stop());
      }
    }
    const started: Promise<void>[] = [];
    for (const [key, k] of wanted) {
      if (this.watches.has(key)) continue;
      const handle: WatchHandle = this.client.watch(
        k.apiVersion,
        k.kind,
        {
          labelSelector: `${Label.Cluster}=${this.cluster}`,
          ...(k.namespace ? { namespace: k.namespace } : {}),
          ...(this.opts.relistIntervalMs ? { relistIntervalMs: this.opts.relistIntervalMs } : {}),
          ...(this.opts.initialBackoffMs ? { initialBackoffMs: this.opts.initialBackoffMs } : {}),
          ...(this.opts.maxBackoffMs ? { maxBackoffMs: this.opts.maxBackoffMs } : {}),
          onError: (err) => this.onError(err, k),
        },
        (event) => {
          if (this.watches.get(key)?.handle !== handle) return; // a stopped watch's last events
          const objectKey = refKey(refOf(event.object));
          if (!this.interested(objectKey)) return;
          // A deletion always counts: a relist reports it with the last object the watch knew,
          // which may be older than one the agent remembered from its own write.
          if (event.type !== "DELETED" && isOlder(event.object, this.objects.get(objectKey))) return;
          if (event.type === "DELETED") this.objects.delete(objectKey);
          else this.objects.set(objectKey, event.object);
          this.onEvent(event, objectKey);
        },
      );
      this.watches.set(key, { kind: k, handle });
      started.push(handle.synced);
    }
    await Promise.all(stopping);
    this.retainInterested();
    // A watch whose list keeps failing (e.g. a kind the identity may not list) retries by itself;
    // the reconcile does not wait for it forever.
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.opts.syncTimeoutMs ?? 30_000);
      timer.unref();
    });
    await Promise.race([Promise.all(started), timeout]);
    clearTimeout(timer);
  }

  async stop(): Promise<void> {
    const all = [...this.watches.values()];
    this.watches.clear();
    await Promise.all(all.map((w) => w.handle.stop()));
    this.objects.clear();
  }
}
