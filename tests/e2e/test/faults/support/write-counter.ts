// Counts writes to the managed objects of a fault test with a watch of its own (raw HTTPS, no code
// shared with the agent's watch in libs/kube), so a fault that makes the agent re-write objects it
// had already applied shows up as resourceVersion changes no desired change explains. The watch
// resumes from the last resourceVersion it saw when the server ends it (timeout, apiserver
// restart), so no write is missed across the fault itself.
import { request, type RequestOptions } from "node:https";
import type { IncomingMessage } from "node:http";
import type { KubeConfig } from "@kubernetes/client-node";
import { kubeRequestOk } from "@flotilla/testkit";

interface Meta {
  metadata: { name: string; resourceVersion: string };
}

export interface WriteCounter {
  /** Writes (ADDED, MODIFIED, DELETED events) seen per object name since start. */
  readonly writes: ReadonlyMap<string, number>;
  total(): number;
  /** Last seen object by name. */
  get(name: string): (Meta & { data?: Record<string, string> }) | undefined;
  /** The object's last event was its deletion. */
  deleted(name: string): boolean;
  /** A watch is open and caught up: opened from a fresh list, or it delivered an event (after an
   * apiserver restart: relisted and watching again). */
  watching(): boolean;
  stop(): void;
}

export async function countWrites(kc: KubeConfig, path: string, labelSelector: string): Promise<WriteCounter> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error("kubeconfig has no current cluster");
  const sel = `labelSelector=${encodeURIComponent(labelSelector)}`;
  const list = await kubeRequestOk<{ metadata: { resourceVersion: string }; items: Meta[] }>(kc, { path: `${path}?${sel}` });
  if (list.body.items.length > 0) throw new Error(`${path} already holds ${list.body.items.length} objects labelled ${labelSelector}`);
  let rv = list.body.metadata.resourceVersion;
  const writes = new Map<string, number>();
  const last = new Map<string, Meta>();
  const gone = new Set<string>();
  let stopped = false;
  let current: IncomingMessage | undefined;
  let expired = false;
  let watchOpen = false;
  const count = (name: string, obj: Meta, deleted: boolean) => {
    writes.set(name, (writes.get(name) ?? 0) + 1);
    last.set(name, obj);
    if (deleted) gone.add(name);
    else gone.delete(name);
  };

  // 410 Gone: a restarted apiserver's watch cache starts at etcd's revision at its start, so a
  // watch resuming from before it is refused. Relist and count every object whose
  // resourceVersion moved (or that appeared or went) since last seen, then watch from the list.
  // Exact unless one object was written twice in that gap (the apiserver was down for most of it).
  const relist = async (): Promise<void> => {
    const now = await kubeRequestOk<{ metadata: { resourceVersion: string }; items: Meta[] }>(kc, { path: `${path}?${sel}` });
    const seen = new Set<string>();
    for (const o of now.body.items) {
      seen.add(o.metadata.name);
      const before = last.get(o.metadata.name);
      if (!before || gone.has(o.metadata.name) || before.metadata.resourceVersion !== o.metadata.resourceVersion) count(o.metadata.name, o, false);
    }
    for (const [name, o] of last) if (!seen.has(name) && !gone.has(name)) count(name, o, true);
    rv = now.body.metadata.resourceVersion;
  };

  const open = async (): Promise<void> => {
    if (stopped) return;
    // A watch from a fresh list's resourceVersion is caught up once it opens; a resumed one only
    // once its first event is not a 410 (a restarted apiserver answers 200, then ERROR).
    let caughtUp = false;
    if (expired) {
      try {
        await relist();
        expired = false;
        caughtUp = true;
      } catch {
        setTimeout(() => void open(), 200).unref();
        return;
      }
    }
    const url = new URL(`${path}?watch=1&allowWatchBookmarks=true&timeoutSeconds=300&resourceVersion=${rv}&${sel}`, cluster.server);
    const opts: RequestOptions = { method: "GET", headers: {} };
    await kc.applyToHTTPSOptions(opts);
    opts.headers = { ...opts.headers, Accept: "application/json" };
    // A refused connection (the apiserver is down) is retried; the resourceVersion carries over.
    let retried = false;
    const retry = () => {
      watchOpen = false;
      if (stopped || retried) return;
      retried = true;
      setTimeout(() => void open(), 200).unref();
    };
    const req = request(url, opts, (res) => {
      current = res;
      if (res.statusCode !== 200) {
        res.resume();
        retry();
        return;
      }
      watchOpen = caughtUp;
      let buf = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        buf += chunk;
        let nl;
        while ((nl = buf.indexOf("\n")) >= 0) {
          const line = buf.slice(0, nl);
          buf = buf.slice(nl + 1);
          if (!line.trim()) continue;
          const ev = JSON.parse(line) as { type: string; object: Meta };
          if (ev.type !== "ERROR") watchOpen = true;
          if (ev.type === "ERROR") {
            // Any other error would leave writes unseen: the count would no longer be exact.
            if ((ev.object as unknown as { code?: number }).code !== 410) throw new Error(`write counter's watch of ${path} failed: ${JSON.stringify(ev.object)}`);
            expired = true;
            res.destroy();
            return;
          }
          rv = ev.object.metadata.resourceVersion;
          if (ev.type === "BOOKMARK") continue;
          count(ev.object.metadata.name, ev.object, ev.type === "DELETED");
        }
      });
      // A killed apiserver resets the connection: no "end", only "error"/"close". Resume on any.
      res.on("end", retry);
      res.on("error", retry);
      res.on("close", retry);
    });
    req.on("error", retry);
    req.end();
  };
  await open();

  return {
    writes,
    total: () => [...writes.values()].reduce((a, b) => a + b, 0),
    get: (name) => last.get(name),
    deleted: (name) => gone.has(name),
    watching: () => watchOpen && !expired,
    stop() {
      stopped = true;
      current?.destroy();
    },
  };
}
