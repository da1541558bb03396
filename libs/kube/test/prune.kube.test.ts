import { randomBytes } from "node:crypto";
import type { KubeObject } from "@flotilla/model";
import { refKey } from "@flotilla/model";
import { useSharedControlPlane } from "@flotilla/testkit/vitest";
import { afterAll, describe, expect, it } from "vitest";
import { KubeClient, ResourceManager, entryOf, inventoryFromChangeSet, targetOf, type InventoryEntry } from "../src/index.js";
import { configMap, namespace, role, serviceAccount } from "./objects.js";

const plane = useSharedControlPlane();
const client = new KubeClient(plane.kubeConfig);
afterAll(() => client.close());
const owner = { app: "shop", cluster: "c1" };

async function exists(o: KubeObject, c = client): Promise<boolean> {
  const r = await c.get(targetOf(o));
  if (!r.ok) throw new Error(r.failure.message);
  return r.value !== undefined;
}

/** Applies a bundle and records its inventory, as the agent does. */
async function deploy(manager: ResourceManager, objects: KubeObject[]): Promise<InventoryEntry[]> {
  const cs = await manager.applyAll(objects, { owner });
  expect(cs.entries.filter((e) => e.action === "failed")).toEqual([]);
  return inventoryFromChangeSet(cs);
}

describe("inventory", () => {
  it("is stored in a ConfigMap and read back", async () => {
    const ns = await plane.freshNamespace("inv");
    const manager = new ResourceManager(client, { inventoryNamespace: ns });
    expect(await manager.readInventory("shop")).toEqual({ ok: true, value: [] });
    const entries = [entryOf(configMap(ns, "a", {})), entryOf(namespace("other"))];
    expect((await manager.writeInventory("shop", entries)).ok).toBe(true);
    const back = await manager.readInventory("shop");
    expect(back.ok && back.value.map((e) => refKey(e.ref)).sort()).toEqual(entries.map((e) => refKey(e.ref)).sort());
    expect(await exists(configMap(ns, "flotilla-inventory-shop", {}))).toBe(true);
  });
});

describe("prune", () => {
  it("prunes the old name of a renamed object", async () => {
    const ns = await plane.freshNamespace("rename");
    const manager = new ResourceManager(client, { inventoryNamespace: ns });
    const previous = await deploy(manager, [configMap(ns, "keep", { a: "1" }), configMap(ns, "old-name", { a: "1" })]);
    await manager.writeInventory("shop", previous);

    const current = await deploy(manager, [configMap(ns, "keep", { a: "1" }), configMap(ns, "new-name", { a: "1" })]);
    const stored = await manager.readInventory("shop");
    if (!stored.ok) throw new Error(stored.failure.message);
    const result = await manager.prune(stored.value, current, { owner });
    expect(result.changeSet.entries.map((e) => `${e.action} ${e.ref.name} ${e.reason}`)).toEqual(["deleted old-name Pruned"]);
    expect(result.retained).toEqual([]);
    expect(await exists(configMap(ns, "old-name", {}))).toBe(false);
    expect(await exists(configMap(ns, "keep", {}))).toBe(true);
    expect(await exists(configMap(ns, "new-name", {}))).toBe(true);
  });

  it("never prunes an object owned by another app or cluster, or annotated prune: disabled", async () => {
    const ns = await plane.freshNamespace("keep");
    const manager = new ResourceManager(client, { inventoryNamespace: ns });
    const mine = await deploy(manager, [configMap(ns, "mine", {}), configMap(ns, "kept", {}, { "flotilla.dev/prune": "disabled" })]);
    // Objects that another app / another cluster's agent now owns.
    await manager.applyAll([configMap(ns, "other-app", {})], { owner: { app: "billing", cluster: "c1" } });
    await manager.applyAll([configMap(ns, "other-cluster", {})], { owner: { app: "shop", cluster: "c2" } });
    const previous = [...mine, entryOf(configMap(ns, "other-app", {})), entryOf(configMap(ns, "other-cluster", {}))];

    const result = await manager.prune(previous, [], { owner });
    const byName = Object.fromEntries(result.changeSet.entries.map((e) => [e.ref.name, `${e.action} ${e.reason}`]));
    expect(byName).toEqual({
      mine: "deleted Pruned",
      kept: "skipped PruneSkippedAnnotation",
      "other-app": "skipped PruneSkippedOwner",
      "other-cluster": "skipped PruneSkippedOwner",
    });
    for (const n of ["kept", "other-app", "other-cluster"]) expect(await exists(configMap(ns, n, {})), n).toBe(true);
    expect(await exists(configMap(ns, "mine", {}))).toBe(false);
  });

  it("prunes everything of the app for an empty bundle, in reverse apply order", async () => {
    const home = await plane.freshNamespace("empty");
    const ns = `pruned-${randomBytes(3).toString("hex")}`;
    const manager = new ResourceManager(client, { inventoryNamespace: home });
    const clusterRole: KubeObject = {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: `flotilla-test-${ns}` },
      rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["get"] }],
    };
    const previous = await deploy(manager, [namespace(ns), serviceAccount(ns, "sa"), configMap(ns, "cfg", {}), role(ns, "r"), clusterRole]);

    const result = await manager.prune(previous, [], { owner, waitTimeoutMs: 90_000 });
    expect(result.changeSet.entries.map((e) => `${e.action} ${e.ref.kind}`)).toEqual([
      "deleted Role",
      "deleted ConfigMap",
      "deleted ServiceAccount",
      "deleted ClusterRole",
      "deleted Namespace",
    ]);
    expect(result.retained).toEqual([]);
    expect(await exists(namespace(ns))).toBe(false);
    expect(await exists(clusterRole)).toBe(false);
  });

  it("keeps a rejected delete in the inventory", async () => {
    const allowed = await plane.freshNamespace("tenant");
    const elsewhere = await plane.freshNamespace("elsewhere");
    const admin = new ResourceManager(client, { inventoryNamespace: allowed });
    const previous = await deploy(admin, [configMap(allowed, "mine", {}), configMap(elsewhere, "out-of-reach", {})]);

    const identity = await plane.mintNamespacedIdentity({ name: "agent", namespaces: [allowed] });
    const tenantClient = new KubeClient(identity.kubeConfig);
    try {
      const tenant = new ResourceManager(tenantClient, { inventoryNamespace: allowed });
      const result = await tenant.prune(previous, [], { owner });
      const byName = Object.fromEntries(result.changeSet.entries.map((e) => [e.ref.name, e]));
      expect(byName["mine"]?.action).toBe("deleted");
      expect(byName["out-of-reach"]).toMatchObject({ action: "failed", reason: "PruneFailed" });
      expect(byName["out-of-reach"]?.message).toContain(identity.user);
      expect(result.retained.map((e) => e.ref.name)).toEqual(["out-of-reach"]);
      expect(await exists(configMap(elsewhere, "out-of-reach", {}))).toBe(true);
    } finally {
      tenantClient.close();
    }
  });
});
