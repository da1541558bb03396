// The drift ledger on the real control plane: each drift event carries the object, the JSON
// paths, desired and live values (Secret values masked — also in logs and status), the actor field
// manager and time, and the action; ignore paths are neither reported nor reverted; a field that
// keeps being rewritten is a fight, retried with exponential backoff (bounded writes); a deleted
// object is re-created.
import { afterEach, describe, expect, it } from "vitest";
import { KubeClient, MASK, PatchType, targetOf } from "@flotilla/kube";
import { refKey, refOf, type KubeObject } from "@flotilla/model";
import { waitFor } from "@flotilla/testkit";
import { useSharedControlPlane } from "@flotilla/testkit/vitest";
import { startReconciler, type Harness } from "./support/harness.js";
import { app } from "./support/memory-desired-state.js";
import { configMap, deployment, secret } from "./support/objects.js";

const plane = useSharedControlPlane();
let h: Harness | undefined;
afterEach(async () => {
  await h?.stop();
  h = undefined;
});

async function live(o: KubeObject): Promise<KubeObject | undefined> {
  const r = await h!.client.get(targetOf(o));
  if (!r.ok) throw new Error(r.failure.message);
  return r.value;
}

const synced = (gen: number) => () => h!.reporter.statuses.some((s) => s.generation === gen && s.syncState === "Synced");

describe("drift ledger", () => {
  it("records a kubectl-scale drift with paths, values, actor, time (seen time: the scale subresource records none) and reverts it", async () => {
    const ns = await plane.freshNamespace("ledger");
    h = await startReconciler({ kubeConfig: plane.kubeConfig, inventoryNamespace: ns });
    const web = deployment(ns, "web", 1);
    h.source.publish([app("shop", [web])]);
    await waitFor(synced(1), { what: "first apply" });

    const before = Date.now();
    const scaled = await h.client.patch(targetOf(web), { spec: { replicas: 3 } }, PatchType.Merge, { subresource: "scale", fieldManager: "kubectl-scale" });
    expect(scaled.ok).toBe(true);
    const drift = await waitFor(() => h!.reporter.drifts.find((d) => d.object.name === "web"), { what: "drift report" });
    const after = Date.now();
    expect(drift).toMatchObject({
      generation: 1,
      app: "shop",
      object: { group: "apps", kind: "Deployment", namespace: ns, name: "web" },
      paths: [{ path: "/spec/replicas", desired: 1, live: 3 }],
      actor: "kubectl-scale",
      policy: "enforce",
      action: "reverted",
    });
    const changedAt = Date.parse(drift.changedAt!);
    expect(changedAt).toBeGreaterThanOrEqual(before - 1000); // seen-time fallback: within the test's window
    expect(changedAt).toBeLessThanOrEqual(after + 1000);
    // The log line says where the time came from.
    expect(h.logs.find((l) => l.msg === "drift")?.obj).toMatchObject({ actor: "kubectl-scale", changedAtSource: "seen" });
    await waitFor(async () => ((await live(web)) as unknown as { spec: { replicas: number } }).spec.replicas === 1, { what: "replicas reverted to 1" });
    expect(h.reconciler.counters.reverts).toBe(1);
  });

  it("masks a drifted Secret's values in the drift report, logs and status; reverts it", async () => {
    const ns = await plane.freshNamespace("secret");
    h = await startReconciler({ kubeConfig: plane.kubeConfig, inventoryNamespace: ns });
    const s = secret(ns, "db", { password: "hunter2-original" });
    h.source.publish([app("shop", [s])]);
    await waitFor(synced(1), { what: "first apply" });

    const intruded = "intruder-value-42";
    const patched = await h.client.patch(targetOf(s), { data: { password: Buffer.from(intruded).toString("base64") } }, PatchType.Merge, { fieldManager: "intruder" });
    expect(patched.ok).toBe(true);
    const drift = await waitFor(() => h!.reporter.drifts.find((d) => d.object.name === "db"), { what: "secret drift" });
    expect(drift.paths).toEqual([{ path: "/data/password", desired: MASK, live: MASK }]);
    expect(drift.actor).toBe("intruder");
    expect(typeof drift.changedAt).toBe("string"); // a merge patch records its time in managedFields
    expect(h.logs.find((l) => l.msg === "drift")?.obj).toMatchObject({ changedAt: drift.changedAt, changedAtSource: "managedFields" });
    expect(drift.action).toBe("reverted");
    await waitFor(async () => {
      const o = (await live(s)) as { data?: Record<string, string> } | undefined;
      return o?.data?.["password"] === Buffer.from("hunter2-original").toString("base64");
    }, { what: "secret reverted" });

    // A new revision changes the value: the change set in the status names the field, masked.
    h.source.publish([app("shop", [secret(ns, "db", { password: "second-secret-value" })])]);
    const configured = await waitFor(() => h!.reporter.statuses.find((st) => st.generation === 2 && st.syncState === "Synced"), { what: "revision 2" });
    expect(configured.apps[0]?.objects[0]?.action).toBe("configured");

    const everything = h.reporter.text() + JSON.stringify(h.logs);
    for (const value of ["hunter2-original", intruded, "second-secret-value"]) {
      expect(everything).not.toContain(value);
      expect(everything).not.toContain(Buffer.from(value).toString("base64"));
    }
    // And the log line of the drift shows the mask.
    expect(JSON.stringify(h.logs.filter((l) => l.msg === "drift"))).toContain(MASK);
  });

  it("neither reports nor reverts declared ignore paths, while other fields of the object still are", async () => {
    const ns = await plane.freshNamespace("ignore");
    h = await startReconciler({ kubeConfig: plane.kubeConfig, inventoryNamespace: ns });
    const web = deployment(ns, "web", 1);
    h.source.publish([app("shop", [web], { ignore: [{ kind: "Deployment", name: "web", paths: ["/spec/replicas"] }] })]);
    await waitFor(synced(1), { what: "first apply" });

    expect((await h.client.patch(targetOf(web), { spec: { replicas: 4 } }, PatchType.Merge, { subresource: "scale", fieldManager: "hpa-like" })).ok).toBe(true);
    // A later change to a declared field: once it is reported and reverted, the scale event has
    // certainly been seen before it.
    expect((await h.client.patch(targetOf(web), { metadata: { labels: { app: "tampered" } } }, PatchType.Merge, { fieldManager: "intruder" })).ok).toBe(true);
    const drift = await waitFor(() => h!.reporter.drifts.find((d) => d.paths.some((p) => p.path === "/metadata/labels/app")), { what: "label drift" });
    expect(drift.action).toBe("reverted");
    await waitFor(async () => ((await live(web))?.metadata.labels?.["app"] === "web" ? true : undefined), { what: "label reverted" });
    const now = (await live(web)) as unknown as { spec: { replicas: number } };
    expect(now.spec.replicas).toBe(4);
    expect(h.reporter.drifts.flatMap((d) => d.paths.map((p) => p.path))).not.toContain("/spec/replicas");

    // A new revision (and so a full re-apply) leaves the ignored field alone too.
    const policy = { ignore: [{ kind: "Deployment", name: "web", paths: ["/spec/replicas"] }] };
    h.source.publish([app("shop", [{ ...web, metadata: { ...web.metadata, annotations: { note: "rev 2" } } }], policy)]);
    await waitFor(synced(2), { what: "second apply" });
    const again = (await live(web)) as unknown as { spec: { replicas: number }; metadata: { annotations?: Record<string, string> } };
    expect(again.metadata.annotations?.["note"]).toBe("rev 2");
    expect(again.spec.replicas).toBe(4);
  });

  it("reports a field that keeps being rewritten as a fight and backs off: agent writes stay bounded", async () => {
    const ns = await plane.freshNamespace("fight");
    h = await startReconciler({
      kubeConfig: plane.kubeConfig,
      inventoryNamespace: ns,
      tuning: { fightGuard: { windowMs: 30_000, freeReverts: 2, initialDelayMs: 300, maxDelayMs: 2_000 } },
    });
    const cm = configMap(ns, "settings", { mode: "ours" });
    h.source.publish([app("shop", [cm])]);
    await waitFor(synced(1), { what: "first apply" });

    // Count the agent's writes from outside: every change that sets the desired value back.
    const watcher = new KubeClient(plane.kubeConfig);
    let agentWrites = 0;
    let lastMode = "ours";
    const watch = watcher.watch("v1", "ConfigMap", { namespace: ns }, ({ type, object }) => {
      if (object.metadata.name !== "settings" || type !== "MODIFIED") return;
      const mode = (object as { data?: Record<string, string> }).data?.["mode"];
      if (mode === "ours" && lastMode !== "ours") agentWrites++;
      lastMode = mode ?? "";
    });
    await watch.synced;

    const rewrites = 25;
    const fightStart = Date.now();
    for (let i = 0; i < rewrites; i++) {
      const r = await h.client.patch(targetOf(cm), { data: { mode: `theirs-${i}` } }, PatchType.Merge, { fieldManager: "fighter" });
      expect(r.ok).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 100)); // the other controller's pace
    }
    const fightMs = Date.now() - fightStart;
    // The fighter has stopped: the agent's last (backed-off) revert restores the desired value.
    await waitFor(async () => ((await live(cm)) as { data?: Record<string, string> } | undefined)?.data?.["mode"] === "ours", { what: "desired value restored", timeoutMs: 20_000 });

    const reverts = h.reconciler.counters.reverts;
    const drifts = h.reporter.drifts.filter((d) => d.object.name === "settings");
    expect(drifts.some((d) => d.action === "fight")).toBe(true);
    expect(drifts.filter((d) => d.action === "reverted")).toHaveLength(2); // the free reverts
    expect(drifts.every((d) => d.actor === "fighter")).toBe(true);
    // Free reverts 2, then waits of 0.3, 0.6, 1.2, 2, 2… s: the most writes the backoff allows
    // while the fighter kept going (~3 s, longer on a loaded machine), plus the final one.
    let allowed = 2;
    for (let t = 0, k = 0; t <= fightMs; k++, allowed++) t += Math.min(300 * 2 ** k, 2_000);
    allowed += 1;
    expect(reverts).toBeGreaterThanOrEqual(3);
    expect(reverts).toBeLessThanOrEqual(allowed);
    expect(reverts).toBeLessThan(rewrites / 2); // never write for write with the fighter
    await waitFor(() => agentWrites === reverts, { what: `the watcher to see the agent's ${reverts} writes (saw ${agentWrites})` });
    await watch.stop();
    watcher.close();
    expect(drifts.length).toBeLessThanOrEqual(allowed);
    // Nothing more happens once the fight is over.
    const settled = h.reconciler.counters.reverts;
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    expect(h.reconciler.counters.reverts).toBe(settled);
  });

  it("re-creates a deleted object under enforce and ledgers the deletion", async () => {
    const ns = await plane.freshNamespace("deleted");
    h = await startReconciler({ kubeConfig: plane.kubeConfig, inventoryNamespace: ns });
    const cm = configMap(ns, "settings", { mode: "ours" });
    h.source.publish([app("shop", [cm])]);
    await waitFor(synced(1), { what: "first apply" });
    const uid = (await live(cm))!.metadata["uid"];

    expect((await h.client.delete(targetOf(cm))).ok).toBe(true);
    const drift = await waitFor(() => h!.reporter.drifts.find((d) => d.object.name === "settings"), { what: "deletion drift" });
    expect(drift).toMatchObject({ paths: [{ path: "", desired: "present", live: null }], actor: "unknown (deleted)", action: "reverted" });
    expect(typeof drift.changedAt).toBe("string");
    const recreated = await waitFor(async () => {
      const o = await live(cm);
      return o && o.metadata["uid"] !== uid ? o : undefined;
    }, { what: "re-created" });
    expect((recreated as unknown as { data: Record<string, string> }).data).toEqual({ mode: "ours" });
    await waitFor(() => h!.reconciler.liveObject(refKey(refOf(cm)))?.metadata["uid"] === recreated.metadata["uid"], { what: "the agent's view follows the re-created object" });
  });

  it("ledgers a failed revert and retries it with backoff until it lands", async () => {
    const ns = await plane.freshNamespace("revert-fails");
    const identity = await plane.mintNamespacedIdentity({ name: "flotilla-agent", namespaces: [ns] });
    h = await startReconciler({
      kubeConfig: identity.kubeConfig,
      inventoryNamespace: ns,
      namespaces: [ns],
      tuning: { fightGuard: { windowMs: 60_000, freeReverts: 1, initialDelayMs: 200, maxDelayMs: 1_000 } },
    });
    const cm = configMap(ns, "settings", { mode: "ours" });
    h.source.publish([app("shop", [cm])]);
    await waitFor(synced(1), { what: "first apply" });

    // The agent loses its write access (its open watch keeps streaming: authorization is checked
    // when a request starts), then the object is deleted.
    const admin = new KubeClient(plane.kubeConfig);
    try {
      const rb = { apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding", namespace: ns, name: "flotilla-agent" };
      const binding = await admin.get(rb);
      if (!binding.ok || !binding.value) throw new Error("no RoleBinding");
      const { roleRef, subjects } = binding.value as unknown as { roleRef: unknown; subjects: unknown };
      expect((await admin.delete(rb)).ok).toBe(true);
      await waitFor(async () => (await h!.client.get(targetOf(cm))).ok === false, { what: "access gone" });
      expect((await admin.delete(targetOf(cm))).ok).toBe(true);

      const failed = await waitFor(() => h!.reporter.drifts.filter((d) => d.action === "revert-failed").length >= 2 || undefined, { what: "failed reverts ledgered and retried" });
      expect(failed).toBe(true);
      const failures = h.reconciler.counters.revertFailures;
      expect(failures).toBeLessThan(10); // backoff: 200, 400, 800, 1000 ms… not a hot loop

      expect((await admin.apply({ apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding", metadata: { name: "flotilla-agent", namespace: ns }, roleRef, subjects } as unknown as KubeObject, { fieldManager: "test", force: true })).ok).toBe(true);
      await waitFor(async () => ((await admin.get(targetOf(cm))) as { ok: boolean; value?: unknown }).value !== undefined, { what: "re-created once access returned", timeoutMs: 20_000 });
      // The ledger: revert-failed for each failed attempt, then reverted — all for the deletion.
      const reverted = await waitFor(() => h!.reporter.drifts.find((d) => d.action === "reverted"), { what: "reverted entry" });
      const actions = h.reporter.drifts.map((d) => d.action);
      expect(actions.indexOf("reverted")).toBe(actions.length - 1);
      expect(actions.slice(0, -1).every((a) => a === "revert-failed")).toBe(true);
      expect(reverted).toMatchObject({ actor: "unknown (deleted)", paths: [{ path: "", desired: "present", live: null }] });
    } finally {
      admin.close();
    }
  });
});
