// The watch loop's own logic (relist on 410 Gone, differences only, restart after errors) with
// a scripted API server; the real-server behaviour is in drift-and-watch.kube.test.ts.
import type { KubeObject } from "@flotilla/model";
import { describe, expect, it } from "vitest";
import type { ListResult } from "../src/client.js";
import type { ResourceInfo } from "../src/discovery.js";
import type { HttpResponse, KubeHttp } from "../src/http.js";
import { ok, type KubeResult } from "../src/result.js";
import { startWatch, type WatchEvent } from "../src/watch.js";

const cm = (name: string, rv: string): KubeObject => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: "n", resourceVersion: rv } });
const info: ResourceInfo = { group: "", version: "v1", kind: "ConfigMap", plural: "configmaps", namespaced: true, verbs: [] };

type Stream = (onLine: (doc: unknown) => void, query: Record<string, unknown>) => Promise<HttpResponse>;

function scripted(lists: ListResult[], streams: Stream[]) {
  const calls = { lists: 0, streams: [] as Record<string, unknown>[] };
  const http = {
    stream: async (_path: string, query: Record<string, unknown>, signal: AbortSignal, onLine: (doc: unknown) => void) => {
      calls.streams.push(query);
      const next = streams.shift();
      if (next) return next(onLine, query);
      // No more script: hold the stream open until the watch is stopped.
      await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
      throw new Error("aborted");
    },
  } as unknown as KubeHttp;
  const deps = {
    http,
    resource: async (): Promise<KubeResult<ResourceInfo>> => ok(info),
    list: async (): Promise<KubeResult<ListResult>> => {
      const l = lists[Math.min(calls.lists, lists.length - 1)]!;
      calls.lists++;
      return ok(l);
    },
  };
  return { deps, calls };
}

const until = async (cond: () => boolean): Promise<void> => {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 5));
  expect(cond()).toBe(true);
};

describe("startWatch", () => {
  it("relists on 410 Gone and emits only the differences, including deletions it missed", async () => {
    const { deps, calls } = scripted(
      [
        { items: [cm("a", "1"), cm("b", "2")], resourceVersion: "2" },
        { items: [cm("a", "5"), cm("c", "6")], resourceVersion: "6" },
      ],
      [
        async (onLine) => {
          onLine({ type: "MODIFIED", object: cm("b", "3") });
          onLine({ type: "ERROR", object: { kind: "Status", code: 410, reason: "Expired" } });
          return { status: 200, body: undefined };
        },
      ],
    );
    const events: WatchEvent[] = [];
    const handle = startWatch(deps, "v1", "ConfigMap", { namespace: "n" }, (e) => events.push(e));
    await handle.synced;
    await until(() => calls.lists === 2 && events.length === 6);
    await handle.stop();
    expect(events.map((e) => `${e.type} ${e.object.metadata.name}@${String(e.object.metadata["resourceVersion"])}`)).toEqual([
      "ADDED a@1",
      "ADDED b@2",
      "MODIFIED b@3",
      "MODIFIED a@5",
      "ADDED c@6",
      "DELETED b@3",
    ]);
    expect(calls.streams[0]).toMatchObject({ watch: 1, allowWatchBookmarks: true, resourceVersion: "2" });
    expect(calls.streams[1]).toMatchObject({ resourceVersion: "6" });
  });

  it("resumes from the last bookmark after an error, reporting the error", async () => {
    const { deps, calls } = scripted(
      [{ items: [], resourceVersion: "10" }],
      [
        async (onLine) => {
          onLine({ type: "BOOKMARK", object: { kind: "ConfigMap", metadata: { resourceVersion: "15" } } });
          throw new Error("connection reset");
        },
      ],
    );
    const errors: string[] = [];
    const handle = startWatch(deps, "v1", "ConfigMap", { initialBackoffMs: 1, onError: (e) => errors.push(e.message) }, () => {});
    await until(() => calls.streams.length === 2);
    await handle.stop();
    expect(errors).toEqual(["connection reset"]);
    expect(calls.lists).toBe(1);
    expect(calls.streams[1]).toMatchObject({ resourceVersion: "15" });
  });

  it("does not list when started from a resourceVersion", async () => {
    const { deps, calls } = scripted([{ items: [cm("a", "1")], resourceVersion: "1" }], []);
    const handle = startWatch(deps, "v1", "ConfigMap", { resourceVersion: "7" }, () => {});
    await handle.synced;
    await until(() => calls.streams.length === 1);
    await handle.stop();
    expect(calls.lists).toBe(0);
    expect(calls.streams[0]).toMatchObject({ resourceVersion: "7" });
  });
});
