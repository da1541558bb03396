// Watch hygiene and the break-glass hook on the real control plane: a watch that starts failing
// (the identity lost its RoleBinding) restarts with backoff and, relisting, catches the drift made
// meanwhile once access returns; a BreakGlassView covering an object blocks its revert, and
// recheckDrift() at the window's end reverts it.
import { afterEach, describe, expect, it } from "vitest";
import { KubeClient, PatchType, targetOf } from "@flotilla/kube";
import type { KubeObject } from "@flotilla/model";
import { waitFor } from "@flotilla/testkit";
import { useSharedControlPlane } from "@flotilla/testkit/vitest";
import { startReconciler, type Harness } from "./support/harness.js";
import { app } from "./support/memory-desired-state.js";
import { configMap } from "./support/objects.js";

const plane = useSharedControlPlane();
const admin = new KubeClient(plane.kubeConfig);
let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

const modeOf = async (o: KubeObject) => ((await admin.get(targetOf(o))) as { ok: boolean; value?: { data?: Record<string, string> } }).value?.data?.["mode"];

describe("watch hygiene", () => {
  it("restarts a failing watch with backoff and catches up by relisting when access returns", async () => {
    const ns = await plane.freshNamespace("rewatch");
    const identity = await plane.mintNamespacedIdentity({ name: "flotilla-agent", namespaces: [ns] });
    h = await startReconciler({
      kubeConfig: identity.kubeConfig,
      inventoryNamespace: ns,
      namespaces: [ns],
      tuning: { watch: { relistIntervalMs: 1_000, initialBackoffMs: 100, maxBackoffMs: 1_000 } },
    });
    const cm = configMap(ns, "settings", { mode: "ours" });
    h.source.publish([app("shop", [cm])]);
    await waitFor(() => h!.reporter.statuses.some((s) => s.syncState === "Synced"), { what: "applied" });

    const binding = await admin.get({ apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding", namespace: ns, name: "flotilla-agent" });
    if (!binding.ok || !binding.value) throw new Error("no RoleBinding");
    const { roleRef, subjects } = binding.value as unknown as { roleRef: unknown; subjects: unknown };
    expect((await admin.delete(targetOf(binding.value))).ok).toBe(true);
    await waitFor(() => h!.logs.some((l) => l.msg.startsWith("watch error")), { what: "the watch fails", timeoutMs: 20_000 });

    // Drift while the agent cannot see: found by the relist once the watch works again.
    expect((await admin.patch(targetOf(cm), { data: { mode: "theirs" } }, PatchType.Merge, { fieldManager: "someone" })).ok).toBe(true);
    const restored = await admin.apply(
      { apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding", metadata: { name: "flotilla-agent", namespace: ns }, roleRef, subjects } as unknown as KubeObject,
      { fieldManager: "test", force: true },
    );
    expect(restored.ok).toBe(true);
    const drift = await waitFor(() => h!.reporter.drifts.find((d) => d.object.name === "settings"), { what: "drift found after the watch recovered", timeoutMs: 30_000 });
    expect(drift).toMatchObject({ action: "reverted", actor: "someone" });
    await waitFor(async () => (await modeOf(cm)) === "ours", { what: "reverted" });
    // Backoff, not a hot loop: errors are few per second of outage.
    const errors = h.logs.filter((l) => l.msg.startsWith("watch error")).length;
    expect(errors).toBeGreaterThan(0);
    expect(errors).toBeLessThan(40);
  });

  it("leaves drift covered by break-glass in place and reverts it when the window ends", async () => {
    const ns = await plane.freshNamespace("glass");
    let open = true;
    h = await startReconciler({ kubeConfig: plane.kubeConfig, inventoryNamespace: ns, tuning: { breakGlass: { covers: (appName) => open && appName === "shop" } } });
    const cm = configMap(ns, "settings", { mode: "ours" });
    h.source.publish([app("shop", [cm])]);
    await waitFor(() => h!.reporter.statuses.some((s) => s.syncState === "Synced"), { what: "applied" });

    await admin.patch(targetOf(cm), { data: { mode: "hotfix" } }, PatchType.Merge, { fieldManager: "oncall" });
    const blocked = await waitFor(() => h!.reporter.drifts.find((d) => d.object.name === "settings"), { what: "blocked drift" });
    expect(blocked).toMatchObject({ action: "blocked-by-break-glass", actor: "oncall", paths: [{ path: "/data/mode", desired: "ours", live: "hotfix" }] });
    expect(await modeOf(cm)).toBe("hotfix");
    expect(h.reconciler.counters.reverts).toBe(0);

    open = false;
    h.reconciler.recheckDrift();
    await waitFor(async () => (await modeOf(cm)) === "ours", { what: "reverted at the end of the window" });
    expect(h.reporter.drifts.map((d) => d.action)).toEqual(["blocked-by-break-glass", "reverted"]);
  });

  it("retries a failed apply with backoff, without waiting for a new revision or the resync", async () => {
    const ns = await plane.freshNamespace("retry");
    const later = `${ns}-later`;
    h = await startReconciler({ kubeConfig: plane.kubeConfig, inventoryNamespace: ns, tuning: { retry: { initialMs: 200, maxMs: 1_000 } } });
    const cm = configMap(later, "settings", { mode: "ours" });
    h.source.publish([app("shop", [cm])]);
    const failed = await waitFor(() => h!.reporter.statuses.find((s) => s.syncState === "Failed"), { what: "failed apply" });
    expect(failed.apps[0]?.objects[0]).toMatchObject({ action: "failed", reason: "NamespaceMissing" });

    expect((await admin.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: later } }, { fieldManager: "test", force: true })).ok).toBe(true);
    try {
      const synced = await waitFor(() => h!.reporter.statuses.find((s) => s.generation === 1 && s.syncState === "Synced"), { what: "retried apply", timeoutMs: 30_000 });
      expect(synced.observedRevision).toBe("rev-1");
      expect(await modeOf(cm)).toBe("ours");
      expect(h.reconciler.counters.reconciles).toBeGreaterThan(1);
      // Once it succeeded, no more retries.
      const reconciles = h.reconciler.counters.reconciles;
      await new Promise((r) => setTimeout(r, 1_500));
      expect(h.reconciler.counters.reconciles).toBe(reconciles);
    } finally {
      await h.stop();
      h = undefined;
      await admin.delete({ apiVersion: "v1", kind: "Namespace", name: later });
    }
  });
});
