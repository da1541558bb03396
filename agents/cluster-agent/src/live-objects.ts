// The agent's view of what it applied: one watch per kind it manages (per namespace for a tenant
// agent), label-selected to its own objects, so memory holds only objects of this cluster's
// bundle and never whole kinds. Watches restart with backoff and relist by themselves (libs/kube).
import type { KubeClient, WatchEvent, WatchHandle } from "@flotilla/kube";
import { Label } from "@flotilla/kube";
import { refKey, refOf, type KubeObject } from "@flotilla/model";

export interface WatchedKind {
  apiVersion: string;
  kind: string;
  /** Tenant agents watch per namespace; cluster agents watch cluster-wide. */
  namespace?: string;
}

const kindKey = (k: WatchedKind): string => `${k.apiVersion}|${k.kind}|${k.namespace ?? ""}`;

export class LiveObjects {
  private readonly watches = new Map<string, WatchHandle>();
  private readonly objects = new Map<string, KubeObject>();

  constructor(
    private readonly client: KubeClient,
    private readonly cluster: string,
    private readonly onEvent: (event: WatchEvent, key: string) => void,
    private readonly onError: (err: Error, kind: WatchedKind) => void,
  ) {}

  get(key: string): KubeObject | undefined {
    return this.objects.get(key);
  }

  /** Remembers an object we just wrote, so status and drift checks see it before its event. */
  remember(o: KubeObject): void {
    this.objects.set(refKey(refOf(o)), o);
  }

  /** Watches exactly these kinds: starts the missing watches, stops the others. Resolves once
   * every new watch has delivered its first list. */
  async watchOnly(kinds: WatchedKind[]): Promise<void> {
    const wanted = new Map(kinds.map((k) => [kindKey(k), k]));
    for (const [key, handle] of this.watches) {
      if (!wanted.has(key)) {
        this.watches.delete(key);
        void handle.stop();
      }
    }
    const started: Promise<void>[] = [];
    for (const [key, k] of wanted) {
      if (this.watches.has(key)) continue;
      const handle = this.client.watch(
        k.apiVersion,
        k.kind,
        { labelSelector: `${Label.Cluster}=${this.cluster}`, ...(k.namespace ? { namespace: k.namespace } : {}), onError: (err) => this.onError(err, k) },
        (event) => {
          const objectKey = refKey(refOf(event.object));
          if (event.type === "DELETED") this.objects.delete(objectKey);
          else this.objects.set(objectKey, event.object);
          this.onEvent(event, objectKey);
        },
      );
      this.watches.set(key, handle);
      started.push(handle.synced);
    }
    await Promise.all(started);
  }

  async stop(): Promise<void> {
    const all = [...this.watches.values()];
    this.watches.clear();
    await Promise.all(all.map((h) => h.stop()));
  }
}
