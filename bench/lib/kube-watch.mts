// An independent observer of the API server for the benches: one raw watch (list, then stream
// from its resourceVersion) over a collection, timestamping every event on arrival. It shares no
// code with the agent's watch (libs/kube), so a bug there cannot hide in the measurement.
import { request, type RequestOptions } from "node:https";
import { performance } from "node:perf_hooks";
import type { IncomingMessage } from "node:http";
import type { KubeConfig } from "@kubernetes/client-node";
import { kubeRequestOk } from "@flotilla/testkit";

export interface ObservedObject {
  metadata: { name: string; namespace?: string; resourceVersion: string; labels?: Record<string, string> };
  spec?: { replicas?: number };
  data?: Record<string, string>;
}

export interface WatchedEvent {
  type: string;
  object: ObservedObject;
  /** performance.now() when the event arrived. */
  at: number;
}

type Listener = (e: WatchedEvent) => void;

export interface CollectionWatch {
  /** Resolves with the first event (at or after now) that satisfies `match`, or rejects on timeout. */
  next(match: (e: WatchedEvent) => boolean, timeoutMs: number, what: string): Promise<WatchedEvent>;
  /** The last seen state of an object, by `namespace/name`. */
  get(namespace: string, name: string): ObservedObject | undefined;
  stop(): void;
}

/** resourceVersions of one etcd are integers that grow; compare them as such. */
export const rvNewer = (a: string, b: string): boolean => BigInt(a) > BigInt(b);

/**
 * Watches a collection path (e.g. `/apis/apps/v1/deployments`). The stream is restarted from the
 * last resourceVersion if the server ends it (timeoutSeconds).
 */
export async function watchCollection(kc: KubeConfig, path: string, labelSelector?: string): Promise<CollectionWatch> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error("kubeconfig has no current cluster");
  const sel = labelSelector ? `labelSelector=${encodeURIComponent(labelSelector)}` : "";
  const list = await kubeRequestOk<{ metadata: { resourceVersion: string }; items: ObservedObject[] }>(kc, { path: `${path}${sel ? `?${sel}` : ""}` });
  const state = new Map<string, ObservedObject>();
  for (const o of list.body.items) state.set(`${o.metadata.namespace ?? ""}/${o.metadata.name}`, o);
  let rv = list.body.metadata.resourceVersion;
  const listeners = new Set<Listener>();
  let stopped = false;
  let current: IncomingMessage | undefined;

  const open = async (): Promise<void> => {
    if (stopped) return;
    const url = new URL(`${path}?watch=1&allowWatchBookmarks=true&timeoutSeconds=600&resourceVersion=${rv}${sel ? `&${sel}` : ""}`, cluster.server);
    const opts: RequestOptions = { method: "GET", headers: {} };
    await kc.applyToHTTPSOptions(opts);
    opts.headers = { ...opts.headers, Accept: "application/json" };
    const req = request(url, opts, (res) => {
      current = res;
      let buf = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        const at = performance.now();
        buf += chunk;
        let nl;
        while ((nl = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (!line.trim()) continue;
          const ev = JSON.parse(line) as { type: string; object: ObservedObject };
          if (ev.type === "ERROR") {
            // 410 Gone and friends: the bench cannot relist without losing events; say so loudly.
            console.error(`[bench] watch ${path} error: ${JSON.stringify(ev.object)}`);
            continue;
          }
          rv = ev.object.metadata.resourceVersion;
          if (ev.type === "BOOKMARK") continue;
          const key = `${ev.object.metadata.namespace ?? ""}/${ev.object.metadata.name}`;
          if (ev.type === "DELETED") state.delete(key);
          else state.set(key, ev.object);
          const e = { type: ev.type, object: ev.object, at };
          for (const l of [...listeners]) l(e);
        }
      });
      res.on("end", () => void open());
      res.on("error", () => undefined);
    });
    req.on("error", (err) => {
      if (!stopped) console.error(`[bench] watch ${path}: ${err.message}`);
    });
    req.end();
  };
  await open();

  return {
    next(match, timeoutMs, what) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          listeners.delete(l);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
        }, timeoutMs);
        const l: Listener = (e) => {
          if (!match(e)) return;
          clearTimeout(timer);
          listeners.delete(l);
          resolve(e);
        };
        listeners.add(l);
      });
    },
    get: (namespace, name) => state.get(`${namespace}/${name}`),
    stop() {
      stopped = true;
      current?.destroy();
    },
  };
}
