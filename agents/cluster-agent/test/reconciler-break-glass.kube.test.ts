// Break-glass against full reconciles, on the real control plane: a new revision, the periodic
// resync and a failed-apply retry all server-side apply every object, yet an out-of-band change a
// window covers stays while the window is open (reported blocked-by-break-glass) and is reverted to
// the desired state when it ends; the rest of the new revision is applied meanwhile; a covered
// object deleted out of band is not re-created before the window ends. Also: the
// Applying status of a new revision lists that revision's objects (pending), never the previous
// revision's.
import { afterEach, describe, expect, it } from "vitest";
import { KubeClient, PatchType, targetOf } from "@flotilla/kube";
import { refKey, refOf, type KubeObject } from "@flotilla/model";
import { waitFor } from "@flotilla/testkit";
import { useSharedControlPlane } from "@flotilla/testkit/vitest";
import { startReconciler, type Harness } from "./support/harness.js";
import { app } from "./support/memory-desired-state.js";
import { configMap, deployment } from "./support/objects.js";

const plane = useSharedControlPlane();
const admin = new KubeClient(plane.kubeConfig);
let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

type LiveDeployment = { spec: { replicas: number; template: { spec: { containers: { name: string; image: string }[] } } }; metadata: KubeObject["metadata"] };
const liveDeployment = async (o: KubeObject) => ((await admin.get(targetOf(o))) as { value?: LiveDeployment }).value;
const synced = (gen: number) => () => h!.reporter.statuses.some((s) => s.generation === gen && s.syncState === "Synced");
const scale = async (o: KubeObject, replicas: number) =>
  expect((await admin.patch(targetOf(o), { spec: { replicas } }, PatchType.Merge, { subresource: "scale", fieldManager: "kubectl-scale" })).ok).toBe(true);
const withAnnotation = (o: KubeObject, note: string): KubeObject => ({ ...o, metadata: { ...o.metadata, annotations: { note } } });

describe("break-glass during full reconciles", () => {
  it("keeps a covered out-of-band scale through a new revision and resyncs, applies the rest, reverts it when the window ends", async () => {
    const ns = await plane.freshNamespace("glass-rev");
    const web = deployment(ns, "web", 1);
    const webKey = refKey(refOf(web));
    let open = true;
    h = await startReconciler({
      kubeConfig: plane.kubeConfig,
      inventoryNamespace: ns,
      // An object-scoped window: the ConfigMap of the same app stays enforced.
      tuning: { breakGlass: { covers: (appName, key) => open && appName === "shop" && key === webKey }, resyncIntervalMs: 700 },
    });
    h.source.publish([app("shop", [web, configMap(ns, "settings", { mode: "v1" })])]);
    await waitFor(synced(1), { what: "first apply" });

    await scale(web, 3);
    const blocked1 = await waitFor(() => h!.reporter.drifts.find((d) => d.object.name === "web"), { what: "blocked drift" });
    expect(blocked1).toMatchObject({ generation: 1, action: "blocked-by-break-glass", actor: "kubectl-scale", paths: [{ path: "/spec/replicas", desired: 1, live: 3 }] });

    // A new revision: another object changes, and so does another field of the covered object.
    h.source.publish([app("shop", [withAnnotation(web, "rev 2"), configMap(ns, "settings", { mode: "v2" })])]);
    await waitFor(synced(2), { what: "second apply" });
    const during = await liveDeployment(web);
    expect(during?.spec.replicas).toBe(3);
    expect(during?.metadata.annotations?.["note"]).toBe("rev 2");
    expect(((await admin.get(targetOf(configMap(ns, "settings", {})))) as { value?: { data: Record<string, string> } }).value?.data["mode"]).toBe("v2");
    const blocked2 = await waitFor(() => h!.reporter.drifts.find((d) => d.object.name === "web" && d.generation === 2), { what: "the drift reported again for revision 2" });
    expect(blocked2).toMatchObject({ action: "blocked-by-break-glass", paths: [{ path: "/spec/replicas", desired: 1, live: 3 }] });
    const webStatus = h.reporter.statuses.find((s) => s.generation === 2 && s.syncState === "Synced")?.apps[0]?.objects.find((o) => o.ref.name === "web");
    expect(webStatus?.message).toContain("break-glass: live values kept at /spec/replicas");

    // Resyncs re-apply everything too: the scale still stands, and is not reported again.
    const reconciles = h.reconciler.counters.reconciles;
    await waitFor(() => h!.reconciler.counters.reconciles >= reconciles + 2 || undefined, { what: "two resyncs" });
    await h.reconciler.idle();
    expect((await liveDeployment(web))?.spec.replicas).toBe(3);
    expect(h.reporter.drifts.filter((d) => d.object.name === "web")).toHaveLength(2);
    expect(h.reconciler.counters.reverts).toBe(0);

    // The window ends: back to the desired replicas, the revision's annotation kept.
    open = false;
    h.reconciler.recheckDrift();
    await waitFor(async () => (await liveDeployment(web))?.spec.replicas === 1 || undefined, { what: "replicas reverted to 1 at the end of the window" });
    expect((await liveDeployment(web))?.metadata.annotations?.["note"]).toBe("rev 2");
    const reverted = await waitFor(() => h!.reporter.drifts.find((d) => d.object.name === "web" && d.action === "reverted"), { what: "revert ledgered" });
    expect(reverted).toMatchObject({ generation: 2, paths: [{ path: "/spec/replicas", desired: 1, live: 3 }] });
    // And the next resync finds nothing to hold or revert.
    const after = h.reconciler.counters.reconciles;
    await waitFor(() => h!.reconciler.counters.reconciles > after || undefined, { what: "a resync after the window" });
    await h.reconciler.idle();
    expect((await liveDeployment(web))?.spec.replicas).toBe(1);
    expect(h.reconciler.counters.reverts).toBe(1);
  });

  it("keeps a covered out-of-band image while a revision that changes the same object's replicas is applied; a failed-apply retry keeps it too", async () => {
    const ns = await plane.freshNamespace("glass-retry");
    const later = `${ns}-later`;
    const web = deployment(ns, "web", 1);
    let open = true;
    h = await startReconciler({
      kubeConfig: plane.kubeConfig,
      inventoryNamespace: ns,
      tuning: { breakGlass: { covers: (appName) => open && appName === "shop" }, retry: { initialMs: 200, maxMs: 1_000 } },
    });
    h.source.publish([app("shop", [web])]);
    await waitFor(synced(1), { what: "first apply" });

    // Hotfix by hand: a different image in the (only) container.
    const patched = await admin.patch(targetOf(web), { spec: { template: { spec: { containers: [{ name: "main", image: "nginx:1.27-hotfix" }] } } } }, PatchType.StrategicMerge, { fieldManager: "oncall" });
    expect(patched.ok).toBe(true);
    await waitFor(() => h!.reporter.drifts.find((d) => d.object.name === "web" && d.action === "blocked-by-break-glass"), { what: "blocked image drift" });

    // Revision 2 scales to 2 and adds an object whose namespace does not exist yet: the apply
    // fails for it and is retried until the namespace appears.
    h.source.publish([app("shop", [deployment(ns, "web", 2), configMap(later, "settings", { mode: "v2" })])]);
    await waitFor(() => h!.reporter.statuses.find((s) => s.generation === 2 && s.syncState === "Failed"), { what: "failed apply of revision 2" });
    let live = await liveDeployment(web);
    expect(live?.spec.replicas).toBe(2);
    expect(live?.spec.template.spec.containers[0]?.image).toBe("nginx:1.27-hotfix");
    const retries = h.reconciler.counters.reconciles;
    await waitFor(() => h!.reconciler.counters.reconciles >= retries + 2 || undefined, { what: "two retries" });
    expect((await liveDeployment(web))?.spec.template.spec.containers[0]?.image).toBe("nginx:1.27-hotfix");

    expect((await admin.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: later } }, { fieldManager: "test", force: true })).ok).toBe(true);
    try {
      await waitFor(synced(2), { what: "retried apply", timeoutMs: 30_000 });
      live = await liveDeployment(web);
      expect(live?.spec.template.spec.containers[0]?.image).toBe("nginx:1.27-hotfix");
      const blocked = h.reporter.drifts.find((d) => d.object.name === "web" && d.generation === 2);
      expect(blocked).toMatchObject({ action: "blocked-by-break-glass", paths: [{ path: "/spec/template/spec/containers/0/image", desired: "nginx:1.27", live: "nginx:1.27-hotfix" }] });

      open = false;
      h.reconciler.recheckDrift();
      await waitFor(async () => (await liveDeployment(web))?.spec.template.spec.containers[0]?.image === "nginx:1.27" || undefined, { what: "image reverted at the end of the window" });
      expect((await liveDeployment(web))?.spec.replicas).toBe(2);
    } finally {
      await h.stop();
      h = undefined;
      await admin.delete({ apiVersion: "v1", kind: "Namespace", name: later });
    }
  });
  it("does not re-create a covered object deleted out of band until the window ends, then creates the latest revision of it", async () => {
    const ns = await plane.freshNamespace("glass-deleted");
    const cm = configMap(ns, "settings", { mode: "v1" });
    let open = true;
    h = await startReconciler({ kubeConfig: plane.kubeConfig, inventoryNamespace: ns, tuning: { breakGlass: { covers: (appName) => open && appName === "shop" } } });
    h.source.publish([app("shop", [cm, configMap(ns, "other", { v: "1" })])]);
    await waitFor(synced(1), { what: "first apply" });

    expect((await admin.delete(targetOf(cm))).ok).toBe(true);
    await waitFor(() => h!.reporter.drifts.find((d) => d.object.name === "settings" && d.action === "blocked-by-break-glass"), { what: "blocked deletion" });
    const exists = async () => ((await admin.get(targetOf(cm))) as { value?: KubeObject }).value !== undefined;

    h.source.publish([app("shop", [configMap(ns, "settings", { mode: "v2" }), configMap(ns, "other", { v: "2" })])]);
    const synced2 = await waitFor(() => h!.reporter.statuses.find((s) => s.generation === 2 && s.syncState === "Synced"), { what: "second apply" });
    expect(await exists()).toBe(false);
    expect(synced2.apps[0]?.objects.find((o) => o.ref.name === "settings")).toMatchObject({ action: "skipped", reason: "BlockedByBreakGlass" });
    expect(await waitFor(() => h!.reporter.drifts.find((d) => d.object.name === "settings" && d.generation === 2), { what: "deletion reported for revision 2" })).toMatchObject({
      action: "blocked-by-break-glass",
      paths: [{ path: "", desired: "present", live: null }],
    });
    // Still in the app's inventory: a prune never mistakes it for an object that left the app.
    const inventory = await h.manager.readInventory("shop");
    expect(inventory.ok && inventory.value.map((e) => e.ref.name).sort()).toEqual(["other", "settings"]);

    open = false;
    h.reconciler.recheckDrift();
    const recreated = await waitFor(async () => ((await admin.get(targetOf(cm))) as { value?: { data: Record<string, string> } }).value, { what: "re-created at the end of the window" });
    expect(recreated.data).toEqual({ mode: "v2" });
  });
});

describe("Applying status", () => {
  it("lists the new revision's objects as pending, never the previous revision's", async () => {
    const ns = await plane.freshNamespace("applying");
    h = await startReconciler({ kubeConfig: plane.kubeConfig, inventoryNamespace: ns });
    h.source.publish([app("shop", [configMap(ns, "old", { v: "1" })])]);
    await waitFor(synced(1), { what: "first apply" });

    h.source.publish([app("shop", [configMap(ns, "new", { v: "1" })]), app("extra", [configMap(ns, "extra", { v: "1" })])]);
    await waitFor(synced(2), { what: "second apply" });
    const applying = h.reporter.statuses.filter((s) => s.generation === 2 && s.syncState === "Applying");
    expect(applying.length).toBeGreaterThan(0);
    for (const s of applying) {
      expect(s.health).toBe("Progressing");
      expect(s.apps.map((a) => [a.name, a.objects.map((o) => [o.ref.name, o.action, o.reason, o.health])])).toEqual([
        ["shop", [["new", "skipped", "Pending", "Progressing"]]],
        ["extra", [["extra", "skipped", "Pending", "Progressing"]]],
      ]);
    }
    const done = h.reporter.statuses.find((s) => s.generation === 2 && s.syncState === "Synced")!;
    expect(done.apps.find((a) => a.name === "shop")?.objects.map((o) => [o.ref.name, o.action])).toEqual([
      ["new", "created"],
      ["old", "deleted"], // revision 2's prune: part of its change set
    ]);
  });
});
