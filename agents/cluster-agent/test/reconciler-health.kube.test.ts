// Health in the agent's status on the real control plane (kwok makes pods Ready): a rollout goes
// Progressing → Healthy, a Deployment past its progress deadline goes Degraded, and a new desired
// revision is never held up by the previous revision's health.
import { afterEach, describe, expect, it } from "vitest";
import { waitFor } from "@flotilla/testkit";
import { useSharedControlPlane } from "@flotilla/testkit/vitest";
import type { StatusBody } from "../src/ports.js";
import { startReconciler, type Harness } from "./support/harness.js";
import { app } from "./support/memory-desired-state.js";
import { configMap, deployment } from "./support/objects.js";

const plane = useSharedControlPlane();
let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

const objectHealth = (s: StatusBody, name: string) => s.apps.flatMap((a) => a.objects).find((o) => o.ref.name === name);

describe("health in status", () => {
  it("reports Progressing, then Healthy, on a real rollout", async () => {
    const ns = await plane.freshNamespace("rollout");
    h = await startReconciler({ kubeConfig: plane.kubeConfig, inventoryNamespace: ns });
    // minReadySeconds keeps the rollout open long enough that the agent sees it in progress
    // (kwok makes pods Ready at once).
    h.source.publish([app("shop", [deployment(ns, "web", 2, { minReadySeconds: 3 })])]);
    await waitFor(() => h!.reporter.lastStatus()?.health === "Healthy", { what: "Healthy status", timeoutMs: 90_000 });

    const seen = h.reporter.statuses.filter((s) => s.generation === 1).map((s) => `${s.syncState}/${s.health}`);
    // Applying first; then, once applied, Progressing before Healthy — and Healthy last.
    expect(seen[0]).toMatch(/^Applying\//);
    const progressing = seen.indexOf("Synced/Progressing");
    const healthy = seen.indexOf("Synced/Healthy");
    expect(progressing).toBeGreaterThan(0);
    expect(healthy).toBeGreaterThan(progressing);
    expect(seen.at(-1)).toBe("Synced/Healthy");
    const last = h.reporter.lastStatus()!;
    expect(objectHealth(last, "web")).toMatchObject({ health: "Healthy", images: ["nginx:1.27"] });
    expect(last.observedRevision).toBe("rev-1");
  });

  it("reports Degraded when a Deployment's progress deadline passes (pods that can never schedule)", async () => {
    const ns = await plane.freshNamespace("deadline");
    h = await startReconciler({ kubeConfig: plane.kubeConfig, inventoryNamespace: ns });
    h.source.publish([app("shop", [deployment(ns, "stuck", 1, { nodeSelector: { "flotilla.dev/no-such-node": "true" }, progressDeadlineSeconds: 3 })])]);
    const degraded = await waitFor(() => h!.reporter.statuses.find((s) => s.health === "Degraded"), { what: "Degraded status", timeoutMs: 90_000 });
    expect(degraded.syncState).toBe("Synced"); // applied fine; the workload is what is broken
    expect(objectHealth(degraded, "stuck")).toMatchObject({ health: "Degraded", healthReason: "ProgressDeadlineExceeded" });
    expect(degraded.apps[0]?.health).toBe("Degraded");
    // Before the deadline it was Progressing.
    const healths = h.reporter.statuses.map((s) => s.health);
    expect(healths.indexOf("Progressing")).toBeGreaterThanOrEqual(0);
    expect(healths.indexOf("Progressing")).toBeLessThan(healths.indexOf("Degraded"));
  });

  it("applies a new revision without waiting for the previous revision's health", async () => {
    const ns = await plane.freshNamespace("supersede");
    h = await startReconciler({ kubeConfig: plane.kubeConfig, inventoryNamespace: ns });
    // Revision 1 can never become healthy (and would only be Degraded after 10 minutes).
    h.source.publish([app("shop", [deployment(ns, "web", 1, { nodeSelector: { "flotilla.dev/no-such-node": "true" }, progressDeadlineSeconds: 600 })])]);
    await waitFor(() => h!.reporter.statuses.some((s) => s.generation === 1 && s.syncState === "Synced"), { what: "revision 1 applied" });
    h.source.publish([app("shop", [deployment(ns, "web", 1)])]);
    const healthy = await waitFor(() => h!.reporter.statuses.find((s) => s.generation === 2 && s.health === "Healthy"), { what: "revision 2 Healthy", timeoutMs: 90_000 });
    expect(healthy.observedRevision).toBe("rev-2");
    // Revision 1 never got past Progressing, and nothing about generation 1 is reported after
    // generation 2 was.
    const gens = h.reporter.statuses.map((s) => s.generation);
    expect(gens.lastIndexOf(1)).toBeLessThan(gens.indexOf(2));
    expect(h.reporter.statuses.filter((s) => s.generation === 1).map((s) => s.health)).not.toContain("Healthy");
  });

  it("stops applying a revision when a newer one arrives mid-apply, and skips revisions already superseded", async () => {
    const ns = await plane.freshNamespace("midapply");
    h = await startReconciler({ kubeConfig: plane.kubeConfig, inventoryNamespace: ns });
    const many = Array.from({ length: 8 }, (_, i) => configMap(ns, `bulk-${i}`, { i: String(i) }));
    // The moment revision 1 says Applying (before its first write), revisions 2 and 3 arrive.
    h.reporter.onReport = (r) => {
      if (r.kind === "status" && r.body.generation === 1 && r.body.syncState === "Applying") {
        h!.source.publish([app("bulk", many.slice(0, 1))]);
        h!.source.publish([app("bulk", many.slice(0, 2))]);
      }
    };
    h.source.publish([app("bulk", many), app("marker", [configMap(ns, "rev1-marker", { seen: "yes" })])]);
    const done = await waitFor(() => h!.reporter.statuses.find((s) => s.generation === 3 && s.syncState === "Synced"), { what: "revision 3 synced" });
    expect(done.observedRevision).toBe("rev-3");
    // Revision 1 stopped at its next app boundary (here: before its first), revision 2 never ran.
    const marker = await h.client.get({ apiVersion: "v1", kind: "ConfigMap", namespace: ns, name: "rev1-marker" });
    expect(marker.ok && marker.value).toBeUndefined();
    expect(h.reporter.statuses.map((s) => s.generation)).not.toContain(2);
    expect(h.logs.some((l) => l.msg === "superseded by a newer desired state")).toBe(true);
    // Only revision 3's objects were ever written.
    const left = await h.client.list("v1", "ConfigMap", { namespace: ns });
    expect(left.ok && left.value.items.map((o) => o.metadata.name).filter((n) => n.startsWith("bulk-")).sort()).toEqual(["bulk-0", "bulk-1"]);
  });
});
