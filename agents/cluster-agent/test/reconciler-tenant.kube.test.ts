// A tenant agent on the real control plane with a namespace-scoped identity (ServiceAccount +
// Role in its namespaces, token from the TokenRequest API): it applies and watches only in its
// namespaces, keeps its inventories in the first, and a cluster-scoped object or one in another
// namespace becomes a failed change-set entry naming the identity — the agent carries on.
import { afterEach, describe, expect, it } from "vitest";
import { PatchType, targetOf } from "@flotilla/kube";
import type { KubeObject } from "@flotilla/model";
import { waitFor } from "@flotilla/testkit";
import { useSharedControlPlane } from "@flotilla/testkit/vitest";
import { startReconciler, type Harness } from "./support/harness.js";
import { app } from "./support/memory-desired-state.js";
import { configMap, deployment } from "./support/objects.js";

const plane = useSharedControlPlane();
let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

describe("tenant agent", () => {
  it("applies and watches only in its namespaces with a namespace-scoped identity", async () => {
    const a = await plane.freshNamespace("tenant-a");
    const b = await plane.freshNamespace("tenant-b");
    const other = await plane.freshNamespace("not-mine");
    const identity = await plane.mintNamespacedIdentity({ name: "flotilla-agent", namespaces: [a, b] });
    h = await startReconciler({ kubeConfig: identity.kubeConfig, inventoryNamespace: a, namespaces: [a, b] });

    const settings = configMap(a, "settings", { mode: "ours" });
    const unqualified: KubeObject = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "defaults" }, data: { k: "v" } };
    const web = deployment(b, "web", 1);
    const clusterRole: KubeObject = { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name: `tenant-${a}` }, rules: [] };
    const elsewhere = configMap(other, "intrusion", { k: "v" });
    h.source.publish([app("team", [settings, unqualified, web, clusterRole, elsewhere])]);

    const status = await waitFor(() => h!.reporter.statuses.find((s) => s.syncState !== "Applying"), { what: "status after apply" });
    const entries = status.apps[0]!.objects;
    const entry = (name: string) => entries.find((o) => o.ref.name === name)!;
    expect(entry("settings").action).toBe("created");
    expect(entry("defaults")).toMatchObject({ action: "created", ref: { namespace: a } }); // no namespace → the first
    expect(entry("web").action).toBe("created");
    for (const refused of [entry(`tenant-${a}`), entry("intrusion")]) {
      expect(refused).toMatchObject({ action: "failed", reason: "Forbidden" });
      expect(refused.message).toContain(identity.user);
      expect(refused.message).toContain(`tenant agent limited to namespaces ${a}, ${b}`);
    }
    expect(entry(`tenant-${a}`).message).toContain("it is cluster-scoped");
    expect(entry("intrusion").message).toContain(`namespace ${other} is not one of them`);
    expect(status.syncState).toBe("Failed");
    expect(status.observedRevision).toBeUndefined();

    // Inventory in the first namespace; nothing was written elsewhere.
    const inventory = await h.manager.readInventory("team");
    // (Refused objects are not in it: the agent never created them and could not prune them.)
    expect(inventory.ok && inventory.value.map((e) => e.ref.name).sort()).toEqual(["defaults", "settings", "web"]);
    expect(h.manager.inventoryNamespace).toBe(a);

    // Watches: per kind and namespace, never cluster-wide, only for what was applied.
    const kinds = h.reconciler.watchStats().kinds.map((k) => `${k.kind}@${k.namespace ?? "*"}`).sort();
    expect(kinds).toEqual([`ConfigMap@${a}`, `Deployment@${b}`]);
    expect(h.logs.filter((l) => l.msg.startsWith("watch error"))).toEqual([]);

    // The watches work with the tenant's identity: a drift in b is seen and reverted.
    const admin = h.client; // same identity; the scale is done by "someone" in the tenant's namespace
    await admin.patch(targetOf(web), { spec: { replicas: 2 } }, PatchType.Merge, { subresource: "scale", fieldManager: "kubectl-scale" });
    const drift = await waitFor(() => h!.reporter.drifts.find((d) => d.object.name === "web"), { what: "drift in the second namespace" });
    expect(drift).toMatchObject({ action: "reverted", actor: "kubectl-scale" });

    // A later revision without the refused objects syncs cleanly.
    h.source.publish([app("team", [settings, unqualified, web])]);
    const synced = await waitFor(() => h!.reporter.statuses.find((s) => s.generation === 2 && s.syncState !== "Applying"), { what: "revision 2 applied" });
    expect(synced.syncState).toBe("Synced");
    expect(synced.lastError).toBeUndefined();
  });
});
