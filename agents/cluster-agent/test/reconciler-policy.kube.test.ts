// Per-app policies on the real control plane: drift warn (report once per distinct drift, never
// revert) and observe (record only); prune true/false for objects that left an app and for apps
// that left the bundle (also across an agent restart); watches follow what is managed.
import { afterEach, describe, expect, it } from "vitest";
import { PatchType, targetOf } from "@flotilla/kube";
import type { KubeObject } from "@flotilla/model";
import { waitFor } from "@flotilla/testkit";
import { useSharedControlPlane } from "@flotilla/testkit/vitest";
import { startReconciler, type Harness } from "./support/harness.js";
import { app } from "./support/memory-desired-state.js";
import { configMap, deployment } from "./support/objects.js";

const plane = useSharedControlPlane();
const harnesses: Harness[] = [];
afterEach(async () => {
  await Promise.all(harnesses.splice(0).map((x) => x.stop()));
});

async function start(ns: string, cluster?: string): Promise<Harness> {
  const h = await startReconciler({ kubeConfig: plane.kubeConfig, inventoryNamespace: ns, ...(cluster ? { cluster } : {}) });
  harnesses.push(h);
  return h;
}

async function live(h: Harness, o: KubeObject): Promise<KubeObject | undefined> {
  const r = await h.client.get(targetOf(o));
  if (!r.ok) throw new Error(r.failure.message);
  return r.value;
}

const synced = (h: Harness, gen: number) => () => h.reporter.statuses.some((s) => s.generation === gen && s.syncState === "Synced");
const replicasOf = async (h: Harness, o: KubeObject) => ((await live(h, o)) as { spec: { replicas: number }; status?: { readyReplicas?: number } } | undefined);

describe("drift policies", () => {
  it("warn: reports a drift once per distinct drift and never reverts it", async () => {
    const ns = await plane.freshNamespace("warn");
    const h = await start(ns);
    const web = deployment(ns, "web", 1);
    h.source.publish([app("shop", [web], { drift: "warn" })]);
    await waitFor(synced(h, 1), { what: "first apply" });

    await h.client.patch(targetOf(web), { spec: { replicas: 3 } }, PatchType.Merge, { subresource: "scale", fieldManager: "kubectl-scale" });
    // The rollout to 3 ready replicas brings many events of the same object, all the same drift.
    await waitFor(async () => (await replicasOf(h, web))?.status?.readyReplicas === 3, { what: "3 ready replicas (kwok)", timeoutMs: 60_000 });
    await waitFor(() => h.reconciler.liveObject(`apps/Deployment/${ns}/web`)?.["status"] && (h.reconciler.liveObject(`apps/Deployment/${ns}/web`) as unknown as { status: { readyReplicas?: number } }).status.readyReplicas === 3, { what: "the agent saw the rollout" });
    let drifts = h.reporter.drifts.filter((d) => d.object.name === "web");
    expect(drifts).toHaveLength(1);
    expect(drifts[0]).toMatchObject({ policy: "warn", action: "left", actor: "kubectl-scale", paths: [{ path: "/spec/replicas", desired: 1, live: 3 }] });
    expect((await replicasOf(h, web))?.spec.replicas).toBe(3);
    expect(h.reconciler.counters.reverts).toBe(0);
    expect(h.logs.some((l) => l.level === "warn" && l.msg === "drift")).toBe(true);

    // A different drift is a new ledger entry.
    await h.client.patch(targetOf(web), { spec: { replicas: 2 } }, PatchType.Merge, { subresource: "scale", fieldManager: "kubectl-scale" });
    await waitFor(() => h.reporter.drifts.filter((d) => d.object.name === "web").length === 2, { what: "second distinct drift" });
    drifts = h.reporter.drifts.filter((d) => d.object.name === "web");
    expect(drifts[1]).toMatchObject({ action: "left", paths: [{ path: "/spec/replicas", desired: 1, live: 2 }] });
    // Statuses keep saying Synced: the drift is the ledger's business, the apply did succeed.
    expect(h.reporter.lastStatus()?.syncState).toBe("Synced");
  });

  it("observe: records the drift only (no revert, no warning)", async () => {
    const ns = await plane.freshNamespace("observe");
    const h = await start(ns);
    const cm = configMap(ns, "settings", { mode: "ours" });
    h.source.publish([app("shop", [cm], { drift: "observe" })]);
    await waitFor(synced(h, 1), { what: "first apply" });

    await h.client.patch(targetOf(cm), { data: { mode: "theirs" } }, PatchType.Merge, { fieldManager: "someone" });
    const drift = await waitFor(() => h.reporter.drifts.find((d) => d.object.name === "settings"), { what: "drift recorded" });
    expect(drift).toMatchObject({ policy: "observe", action: "left", actor: "someone", paths: [{ path: "/data/mode", desired: "ours", live: "theirs" }] });
    expect(((await live(h, cm)) as unknown as { data: Record<string, string> }).data["mode"]).toBe("theirs");
    expect(h.reconciler.counters.reverts).toBe(0);
    expect(h.logs.filter((l) => l.level === "warn")).toEqual([]);
  });
});

describe("prune policy", () => {
  it("prune true deletes an object that left the bundle; prune false keeps it and keeps tracking it", async () => {
    const ns = await plane.freshNamespace("prune");
    const h = await start(ns);
    const a = configMap(ns, "a", { v: "1" });
    const b = configMap(ns, "b", { v: "1" });
    const c = configMap(ns, "c", { v: "1" });
    h.source.publish([app("pruned", [a, b]), app("kept", [c, configMap(ns, "d", { v: "1" })], { prune: false })]);
    await waitFor(synced(h, 1), { what: "first apply" });

    h.source.publish([app("pruned", [a]), app("kept", [c], { prune: false })]);
    await waitFor(synced(h, 2), { what: "second apply" });
    expect(await live(h, b)).toBeUndefined();
    const d = configMap(ns, "d", { v: "1" });
    expect(await live(h, d)).toBeDefined();
    const prunedApp = h.reporter.lastStatus()!.apps.find((x) => x.name === "pruned")!;
    expect(prunedApp.objects.find((o) => o.ref.name === "b")?.action).toBe("deleted");
    const keptInventory = await h.manager.readInventory("kept");
    expect(keptInventory.ok && keptInventory.value.map((e) => e.ref.name).sort()).toEqual(["c", "d"]);

    // Still tracked: once the app's policy allows pruning, the kept object goes.
    h.source.publish([app("pruned", [a]), app("kept", [c])]);
    await waitFor(synced(h, 3), { what: "third apply" });
    expect(await live(h, d)).toBeUndefined();
    const after = await h.manager.readInventory("kept");
    expect(after.ok && after.value.map((e) => e.ref.name)).toEqual(["c"]);
  });

  it("prunes apps that left the bundle (by their last prune policy, also after a restart) and stops watching what they used", async () => {
    const ns = await plane.freshNamespace("apps");
    const cluster = `c-apps-${Date.now().toString(36)}`;
    const first = await start(ns, cluster);
    const shop = configMap(ns, "shop", { v: "1" });
    const legacy = configMap(ns, "legacy", { v: "1" });
    const oldWeb = deployment(ns, "old-web", 1);
    const gone = configMap(ns, "gone", { v: "1" });
    first.source.publish([app("shop", [shop]), app("legacy", [legacy], { prune: false }), app("old", [oldWeb, gone])]);
    await waitFor(synced(first, 1), { what: "first apply" });
    expect(first.reconciler.watchStats().kinds.map((k) => k.kind).sort()).toEqual(["ConfigMap", "Deployment"]);

    // "legacy" leaves while this agent runs.
    first.source.publish([app("shop", [shop]), app("old", [oldWeb, gone])]);
    await waitFor(synced(first, 2), { what: "second apply" });
    expect(await live(first, legacy)).toBeDefined(); // prune: false keeps it
    expect((await first.manager.readInventory("legacy")).ok).toBe(true);
    await first.stop();
    harnesses.splice(harnesses.indexOf(first), 1);

    // "old" leaves while the agent is down: the restarted agent knows it only from its inventory.
    const second = await start(ns, cluster);
    second.source.publish([app("shop", [shop])]);
    await waitFor(synced(second, 1), { what: "apply after restart" });
    expect(await live(second, oldWeb)).toBeUndefined();
    expect(await live(second, gone)).toBeUndefined();
    expect(await live(second, legacy)).toBeDefined();
    const oldInventory = await second.client.get({ apiVersion: "v1", kind: "ConfigMap", namespace: ns, name: "flotilla-inventory-old" });
    expect(oldInventory.ok && oldInventory.value).toBeUndefined();
    expect(second.reconciler.counters.prunedApps).toBe(1);
    // Only the kind still in use is watched, and only the managed object is held.
    expect(second.reconciler.watchStats()).toEqual({ kinds: [{ apiVersion: "v1", kind: "ConfigMap" }], objects: 1 });

    // The kept object is no longer the agent's business: changing it is not drift.
    await second.client.patch(targetOf(legacy), { data: { v: "changed" } }, PatchType.Merge, { fieldManager: "someone" });
    await second.client.patch(targetOf(shop), { data: { v: "changed" } }, PatchType.Merge, { fieldManager: "someone" });
    await waitFor(() => second.reporter.drifts.find((d) => d.object.name === "shop"), { what: "drift of the managed object" });
    expect(second.reporter.drifts.map((d) => d.object.name)).toEqual(["shop"]);
  });
});
