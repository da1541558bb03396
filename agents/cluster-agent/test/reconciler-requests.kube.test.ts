// What a new revision costs the API server, on the real control plane: the agent reads live
// objects from its watch cache (no GET), applies a changed object at once (no dry-run), keeps
// GET-less dry-runs for the objects the revision did not change (never written), lists the
// inventories once, and writes an app's inventory only when the app's set of objects changed.
import { afterEach, describe, expect, it } from "vitest";
import { CountingKubeClient } from "@flotilla/kube/testing";
import { waitFor } from "@flotilla/testkit";
import { useSharedControlPlane } from "@flotilla/testkit/vitest";
import { startReconciler, type Harness } from "./support/harness.js";
import { app } from "./support/memory-desired-state.js";
import { configMap } from "./support/objects.js";

const plane = useSharedControlPlane();
const harnesses: Harness[] = [];
afterEach(async () => {
  await Promise.all(harnesses.splice(0).map((x) => x.stop()));
});

const synced = (h: Harness, gen: number) => () => h.reporter.statuses.some((s) => s.generation === gen && s.syncState === "Synced");

describe("API requests of a new revision", () => {
  it("changes one object with one apply and leaves an unchanged inventory alone; a new object rewrites it", async () => {
    const ns = await plane.freshNamespace("requests");
    const client = new CountingKubeClient(plane.kubeConfig);
    const h = await startReconciler({ kubeConfig: plane.kubeConfig, inventoryNamespace: ns, client });
    harnesses.push(h);
    const inventory = { apiVersion: "v1", kind: "ConfigMap", namespace: ns, name: "flotilla-inventory-shop" };
    const inventoryRv = async () => {
      const r = await h.client.get(inventory);
      if (!r.ok || !r.value) throw new Error("no inventory");
      return r.value.metadata["resourceVersion"];
    };

    h.source.publish([app("shop", [configMap(ns, "a", { k: "1" }), configMap(ns, "b", { k: "1" })])]);
    await waitFor(synced(h, 1), { what: "first apply" });
    await waitFor(() => h.reconciler.liveObject(`/ConfigMap/${ns}/a`) && h.reconciler.liveObject(`/ConfigMap/${ns}/b`), { what: "both objects in the watch cache" });
    const rv1 = await inventoryRv();

    client.reset();
    h.source.publish([app("shop", [configMap(ns, "a", { k: "1" }), configMap(ns, "b", { k: "2" })])]);
    await waitFor(synced(h, 2), { what: "second revision applied" });
    const status = h.reporter.lastStatus()!;
    const actions = Object.fromEntries(status.apps[0]!.objects.map((o) => [o.ref.name, o.action]));
    expect(actions).toEqual({ a: "unchanged", b: "configured" });
    // a: one dry-run (unchanged: not written); b: one apply; the inventories: one list; no GET,
    // no inventory write.
    expect(client.counts).toEqual({ get: 0, list: 1, apply: 1, dryRun: 1 });
    expect(await inventoryRv()).toBe(rv1);

    client.reset();
    h.source.publish([app("shop", [configMap(ns, "a", { k: "1" }), configMap(ns, "b", { k: "2" }), configMap(ns, "c", { k: "1" })])]);
    await waitFor(synced(h, 3), { what: "third revision applied" });
    const third = Object.fromEntries(h.reporter.lastStatus()!.apps[0]!.objects.map((o) => [o.ref.name, o.action]));
    expect(third).toEqual({ a: "unchanged", b: "unchanged", c: "created" });
    // c: one GET (not in the cache) and one apply; the inventory written again (c added).
    expect(client.counts).toMatchObject({ get: 1, apply: 2, dryRun: 2 });
    expect(await inventoryRv()).not.toBe(rv1);
    const listed = await h.client.get(inventory);
    expect(listed.ok && JSON.parse(String((listed.value?.["data"] as Record<string, string>)["inventory.json"])).map((e: { ref: string }) => e.ref)).toEqual([
      `/ConfigMap/${ns}/a`,
      `/ConfigMap/${ns}/b`,
      `/ConfigMap/${ns}/c`,
    ]);
  });
});
