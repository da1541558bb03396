import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";
import type { KubeObject } from "@flotilla/model";
import { waitFor } from "@flotilla/testkit";
import { useSharedControlPlane } from "@flotilla/testkit/vitest";
import { afterAll, describe, expect, it } from "vitest";
import { KubeClient, PatchType, ResourceManager, diffLive, driftActor, targetOf, type WatchEvent } from "../src/index.js";
import { configMap, deployment, widget, widgetCrd } from "./objects.js";

const plane = useSharedControlPlane();
const client = new KubeClient(plane.kubeConfig);
const manager = new ResourceManager(client);
const owner = { app: "shop", cluster: "c1" };
afterAll(() => client.close());

async function live(o: KubeObject): Promise<KubeObject> {
  const r = await client.get(targetOf(o));
  if (!r.ok || !r.value) throw new Error(`no ${o.metadata.name}`);
  return r.value;
}

describe("drift", () => {
  it("finds the drifted field and its actor after a scale by kubectl-scale", async () => {
    const ns = await plane.freshNamespace("scale");
    const desired = deployment(ns, "web", 1);
    const cs = await manager.applyAll([desired], { owner });
    const applied = cs.entries[0]?.applied;
    expect(applied).toBeDefined();
    expect(diffLive(desired, await live(desired), { baseline: applied! })).toEqual([]);

    const scaled = await client.patch(targetOf(desired), { spec: { replicas: 3 } }, PatchType.Merge, { subresource: "scale", fieldManager: "kubectl-scale" });
    expect(scaled.ok).toBe(true);

    const now = await live(desired);
    const paths = diffLive(desired, now, { baseline: applied! });
    expect(paths).toEqual([{ path: "/spec/replicas", desired: 1, live: 3 }]);
    const actor = driftActor(now, paths.map((p) => p.path), manager.fieldManager);
    expect(actor).toMatchObject({ manager: "kubectl-scale", operation: "Update", subresource: "scale" });
    // The API server records no time for updates through the scale subresource; the agent
    // falls back to when it saw the event.

    // An ignore rule hides it; re-applying reverts it.
    expect(diffLive(desired, now, { baseline: applied!, ignore: [{ kind: "Deployment", paths: ["/spec/replicas"] }] })).toEqual([]);
    const revert = await manager.applyAll([desired], { owner });
    expect(revert.entries[0]).toMatchObject({ action: "configured", changes: [{ path: "/spec/replicas", desired: 1, live: 3 }] });
    expect((await live(desired))["spec"]).toMatchObject({ replicas: 1 });
  });

  it("names the real kubectl as the actor of `kubectl scale`", async () => {
    const ns = await plane.freshNamespace("kscale");
    const desired = deployment(ns, "web", 1);
    const applied = (await manager.applyAll([desired], { owner })).entries[0]?.applied;
    await promisify(execFile)("kubectl", ["--kubeconfig", plane.kubeconfigPath, "-n", ns, "scale", "deployment/web", "--replicas=2"]);
    const now = await live(desired);
    const paths = diffLive(desired, now, { baseline: applied! }).map((p) => p.path);
    expect(paths).toEqual(["/spec/replicas"]);
    expect(driftActor(now, paths, manager.fieldManager)?.manager).toMatch(/^kubectl/);
  });

  it("names the manager of a server-side apply by someone else", async () => {
    const ns = await plane.freshNamespace("intruder");
    const desired = configMap(ns, "cfg", { mode: "safe", other: "x" });
    const applied = (await manager.applyAll([desired], { owner })).entries[0]?.applied;
    const r = await client.apply(configMap(ns, "cfg", { mode: "unsafe" }), { fieldManager: "intruder", force: true });
    expect(r.ok).toBe(true);
    const now = await live(desired);
    const paths = diffLive(desired, now, { baseline: applied! });
    expect(paths).toEqual([{ path: "/data/mode", desired: "safe", live: "unsafe" }]);
    expect(driftActor(now, paths.map((p) => p.path), "flotilla")?.manager).toBe("intruder");
  });
});

describe("watch", () => {
  it("lists, then delivers a change made by someone else and a deletion", async () => {
    const ns = await plane.freshNamespace("watch");
    await manager.applyAll([configMap(ns, "a", { v: "1" })], { owner });
    const events: WatchEvent[] = [];
    const handle = client.watch("v1", "ConfigMap", { namespace: ns }, (e) => events.push(e));
    try {
      await handle.synced;
      expect(events.map((e) => `${e.type} ${e.object.metadata.name}`)).toContain("ADDED a");

      const changedAt = Date.now();
      await client.apply(configMap(ns, "a", { v: "2" }), { fieldManager: "intruder", force: true });
      const modified = await waitFor(() => events.find((e) => e.type === "MODIFIED" && (e.object["data"] as Record<string, string>)["v"] === "2"), { what: "the MODIFIED event", timeoutMs: 10_000, intervalMs: 10 });
      expect(modified.object).toMatchObject({ apiVersion: "v1", kind: "ConfigMap" });
      // Latency is printed, not asserted (speed targets live in bench/).
      process.stderr.write(`[kube] watch event ${Date.now() - changedAt} ms after the change\n`);

      await client.delete(configMap(ns, "a", {}));
      await waitFor(() => events.some((e) => e.type === "DELETED" && e.object.metadata.name === "a"), { what: "the DELETED event", timeoutMs: 10_000 });
    } finally {
      await handle.stop();
    }
  });

  it("restarts after errors: a watch on a kind that does not exist yet starts delivering once its CRD is established", async () => {
    const group = `w${randomBytes(3).toString("hex")}.flotilla.dev`;
    const ns = await plane.freshNamespace("watch-crd");
    const errors: Error[] = [];
    const events: WatchEvent[] = [];
    const handle = client.watch(`${group}/v1`, "Widget", { namespace: ns, initialBackoffMs: 50, maxBackoffMs: 200, onError: (e) => errors.push(e) }, (e) => events.push(e));
    try {
      await waitFor(() => errors.length > 0, { what: "the watch to report the missing kind" });
      const cs = await manager.applyAll([widgetCrd(group), widget(group, ns, "w1", 1)], { owner });
      expect(cs.entries.map((e) => e.action)).toEqual(["created", "created"]);
      await waitFor(() => events.some((e) => e.object.metadata.name === "w1"), { what: "the Widget event", timeoutMs: 15_000 });
    } finally {
      await handle.stop();
      await client.delete(widgetCrd(group));
    }
  });

  it("starts from a resourceVersion without listing", async () => {
    const ns = await plane.freshNamespace("watch-rv");
    await manager.applyAll([configMap(ns, "old", { v: "1" })], { owner });
    const list = await client.list("v1", "ConfigMap", { namespace: ns });
    if (!list.ok) throw new Error(list.failure.message);
    const events: WatchEvent[] = [];
    const handle = client.watch("v1", "ConfigMap", { namespace: ns, resourceVersion: list.value.resourceVersion }, (e) => events.push(e));
    try {
      await handle.synced;
      await manager.applyAll([configMap(ns, "new", { v: "1" })], { owner });
      await waitFor(() => events.some((e) => e.object.metadata.name === "new"), { what: "the event for the new ConfigMap" });
      expect(events.map((e) => e.object.metadata.name)).not.toContain("old");
    } finally {
      await handle.stop();
    }
  });
});
