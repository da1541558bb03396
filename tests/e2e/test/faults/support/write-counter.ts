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

  const open = async (): Promise<void> => {
    if (stopped) return;
    const url = new URL(`${path}?watch=1&allowWatchBookmarks=true&timeoutSeconds=300&resourceVersion=${rv}&${sel}`, cluster.server);
    const opts: RequestOptions = { method: "GET", headers: {} };
    await kc.applyToHTTPSOptions(opts);
    opts.headers = { ...opts.headers, Accept: "application/json" };
    // A refused connection (the apiserver is down) is retried; the resourceVersion carries over.
    let retried = false;
    const retry = () => {
      if (stopped || retried) return;
      retried = true;
      setTimeout(() => void open(), 200).unref();
    };
    const req = request(url, opts, (res) => {
      current = res;
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
          // 410 Gone would mean writes were compacted away unseen: the count is no longer exact.
          if (ev.type === "ERROR") throw new Error(`write counter's watch of ${path} failed: ${JSON.stringify(ev.object)}`);
          rv = ev.object.metadata.resourceVersion;
          if (ev.type === "BOOKMARK") continue;
          const name = ev.object.metadata.name;
          writes.set(name, (writes.get(name) ?? 0) + 1);
          last.set(name, ev.object);
          if (ev.type === "DELETED") gone.add(name);
          else gone.delete(name);
        }
      });
      res.on("end", retry);
      res.on("error", () => undefined);
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
    stop() {
      stopped = true;
      current?.destroy();
    },
  };
}
