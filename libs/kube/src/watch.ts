// A self-healing watch of one kind (an informer without a cache API).
//
// List, then stream `?watch=1&allowWatchBookmarks=true&timeoutSeconds=…` from the list's
// resourceVersion. The client-node informer restarts only on 410 Gone and stops on any other
// error; here every error restarts the stream with exponential backoff, 410 Gone and a periodic
// timer relist, and a relist emits only the differences from what was already seen (including
// DELETED for objects that vanished while we were not watching).
import type { KubeObject } from "@flotilla/model";
import type { ListOptions, ListResult } from "./list.js";
import type { ResourceInfo } from "./discovery.js";
import type { KubeHttp } from "./http.js";
import { isObject } from "./json.js";
import type { KubeResult } from "./result.js";
import { collectionPath } from "./target.js";

export type WatchEventType = "ADDED" | "MODIFIED" | "DELETED";

export interface WatchEvent {
  type: WatchEventType;
  object: KubeObject;
}

export type WatchEventHandler = (event: WatchEvent) => void;

export interface WatchOptions {
  namespace?: string;
  labelSelector?: string;
  /** Start streaming from this resourceVersion instead of listing first. */
  resourceVersion?: string;
  /** Server-side timeout of one watch request (default 300 s); the stream then restarts. */
  timeoutSeconds?: number;
  /** Relist this often even without errors (default 10 min). */
  relistIntervalMs?: number;
  /** Backoff after an error: doubles from `initialBackoffMs` (200) up to `maxBackoffMs` (30 s). */
  initialBackoffMs?: number;
  maxBackoffMs?: number;
  /** Called for each error before the watch retries (the watch itself never throws). */
  onError?: (err: Error) => void;
}

export interface WatchHandle {
  /** Resolves after the first list was delivered (immediately when starting from a resourceVersion). */
  readonly synced: Promise<void>;
  /** Stops the watch; resolves when its loop has ended. */
  stop(): Promise<void>;
}

interface WatchDeps {
  http: KubeHttp;
  resource: (apiVersion: string, kind: string) => Promise<KubeResult<ResourceInfo>>;
  list: (apiVersion: string, kind: string, opts: ListOptions) => Promise<KubeResult<ListResult>>;
}

class GoneError extends Error {
  override readonly name = "GoneError";
}

const keyOf = (o: KubeObject): string => `${o.metadata.namespace ?? ""}/${o.metadata.name}`;
const rvOf = (o: KubeObject): string | undefined => o.metadata["resourceVersion"] as string | undefined;

export function startWatch(deps: WatchDeps, apiVersion: string, kind: string, opts: WatchOptions, onEvent: WatchEventHandler): WatchHandle {
  const abort = new AbortController();
  const known = new Map<string, KubeObject>();
  const relistEvery = opts.relistIntervalMs ?? 10 * 60_000;
  const maxBackoff = opts.maxBackoffMs ?? 30_000;
  const initialBackoff = opts.initialBackoffMs ?? 200;
  let markSynced!: () => void;
  const synced = new Promise<void>((r) => (markSynced = r));

  const emit = (type: WatchEventType, object: KubeObject): void => {
    if (type === "DELETED") known.delete(keyOf(object));
    else known.set(keyOf(object), object);
    try {
      onEvent({ type, object });
    } catch (err) {
      opts.onError?.(err instanceof Error ? err : new Error(String(err)));
    }
  };

  async function relist(): Promise<string> {
    const r = await deps.list(apiVersion, kind, { ...(opts.namespace ? { namespace: opts.namespace } : {}), ...(opts.labelSelector ? { labelSelector: opts.labelSelector } : {}) });
    if (!r.ok) throw new Error(r.failure.message);
    const seen = new Set<string>();
    for (const item of r.value.items) {
      const k = keyOf(item);
      seen.add(k);
      const before = known.get(k);
      if (!before) emit("ADDED", item);
      else if (rvOf(before) !== rvOf(item)) emit("MODIFIED", item);
    }
    for (const [k, o] of [...known]) if (!seen.has(k)) emit("DELETED", o);
    return r.value.resourceVersion;
  }

  // The last resourceVersion seen (list, event or bookmark): a restarted stream resumes from it.
  let rv = opts.resourceVersion;

  async function stream(timeoutSeconds: number): Promise<void> {
    const info = await deps.resource(apiVersion, kind);
    if (!info.ok) throw new Error(info.failure.message);
    const res = await deps.http.stream(
      collectionPath(info.value, opts.namespace),
      { watch: 1, allowWatchBookmarks: true, timeoutSeconds, resourceVersion: rv, labelSelector: opts.labelSelector },
      abort.signal,
      (doc) => {
        if (!isObject(doc) || !isObject(doc["object"])) return;
        const type = doc["type"];
        const object = doc["object"] as KubeObject;
        if (type === "ERROR") {
          const code = (doc["object"] as Record<string, unknown>)["code"];
          if (code === 410) throw new GoneError("resourceVersion too old");
          throw new Error(`watch error: ${JSON.stringify(doc["object"])}`);
        }
        if (!isObject(object["metadata"])) return;
        rv = rvOf(object) ?? rv;
        if (type === "BOOKMARK") return;
        if (type === "ADDED" || type === "MODIFIED" || type === "DELETED") emit(type, { ...object, apiVersion, kind });
      },
      (timeoutSeconds + 60) * 1000,
    );
    if (res.status === 410) throw new GoneError("resourceVersion too old");
    if (res.status !== 200) throw new Error(`watch ${kind}: HTTP ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
  }

  const sleep = (ms: number): Promise<void> =>
    new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      abort.signal.addEventListener("abort", () => { clearTimeout(t); resolve(); }, { once: true });
    });

  async function loop(): Promise<void> {
    let listedAt = rv === undefined ? 0 : Date.now();
    if (rv !== undefined) markSynced();
    let backoff = initialBackoff;
    while (!abort.signal.aborted) {
      try {
        if (rv === undefined || Date.now() - listedAt >= relistEvery) {
          rv = await relist();
          listedAt = Date.now();
          markSynced();
        }
        const untilRelist = Math.max(1, Math.ceil((relistEvery - (Date.now() - listedAt)) / 1000));
        await stream(Math.min(opts.timeoutSeconds ?? 300, untilRelist));
        backoff = initialBackoff;
      } catch (err) {
        if (abort.signal.aborted) break;
        if (err instanceof GoneError) {
          rv = undefined; // relist now, no backoff: the server told us exactly what to do
          continue;
        }
        opts.onError?.(err instanceof Error ? err : new Error(String(err)));
        await sleep(backoff);
        backoff = Math.min(backoff * 2, maxBackoff);
      }
    }
  }

  const done = loop();
  return {
    synced,
    async stop() {
      abort.abort();
      await done;
    },
  };
}
