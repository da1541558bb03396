// Offline, end to end through NATS: the agent keeps its last verified bundle on disk and keeps
// enforcing it while NATS is down and across its own restart; the reports it makes meanwhile are
// spooled and all delivered when NATS returns (counted: none lost, none doubled).
import { mkdtemp, rm } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { KubeClient, PatchType } from "@flotilla/kube";
import type { KubeObject } from "@flotilla/model";
import { waitFor } from "@flotilla/testkit";
import { useSharedControlPlane } from "@flotilla/testkit/vitest";
import { startAgent, type Agent } from "../src/agent.js";
import { startHubSim } from "./support/hub-sim.js";
import { configMap } from "./support/objects.js";

const plane = useSharedControlPlane();
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

describe("offline agent", () => {
  it("enforces its cached bundle while NATS is down and across a restart, then delivers every spooled report", async () => {
    const ns = await plane.freshNamespace("offline");
    const cluster = `off-${randomBytes(3).toString("hex")}`;
    const hub = await startHubSim();
    cleanups.push(() => hub.dispose());
    const nats = hub.nats;
    const stateDir = await mkdtemp(join(tmpdir(), "flotilla-agent-offline-"));
    cleanups.push(() => rm(stateDir, { recursive: true, force: true }));
    const kube = new KubeClient(plane.kubeConfig);
    cleanups.push(async () => kube.close());
    const cm = configMap(ns, "settings", { mode: "v1" });
    const publish = (generation: number, objects: KubeObject[]) => hub.publish(cluster, generation, [{ name: "web", policy: { drift: "enforce", prune: true, ignore: [] }, objects }]);
    await publish(1, [cm]);

    const start = (run: string) =>
      startAgent({
        cluster,
        agentId: `${cluster}/${run}`,
        natsUrl: nats.url,
        hubPublicKey: hub.key.publicKey,
        kubeconfig: plane.kubeConfig,
        stateDir,
        heartbeatIntervalMs: 3_600_000,
        tuning: { statusDebounceMs: 50 },
      });
    const mode = async () => ((await kube.get({ apiVersion: "v1", kind: "ConfigMap", namespace: ns, name: "settings" })) as { ok: boolean; value?: { data?: Record<string, string> } }).value?.data?.["mode"];
    const tamper = () => kube.patch({ apiVersion: "v1", kind: "ConfigMap", namespace: ns, name: "settings" }, { data: { mode: "tampered" } }, PatchType.Merge, { fieldManager: "intruder" });

    let agent: Agent = await start("run-1");
    cleanups.push(() => agent.stop());
    await waitFor(async () => (await mode()) === "v1", { what: "bundle applied" });
    await waitFor(() => agent.reconciler.desired !== undefined && agent.reporter.pending() === 0, { what: "first reports delivered" });
    const made = { statuses: 0, drifts: 0 };

    // NATS goes away. The agent keeps enforcing: a drift is reverted and ledgered (spooled).
    await nats.stop();
    await tamper();
    await waitFor(async () => agent.reconciler.counters.reverts === 1 && (await mode()) === "v1", { what: "drift reverted while offline" });
    await waitFor(() => agent.reporter.pending() > 0 || undefined, { what: "drift report queued" });

    // The agent restarts while NATS is still down: from its disk cache it enforces the bundle again.
    made.statuses += agent.reconciler.counters.statuses;
    made.drifts += agent.reconciler.counters.drifts;
    await agent.stop();
    agent = await start("run-2");
    await waitFor(() => agent.reconciler.desired?.pointer.generation === 1, { what: "cached desired state loaded" });
    await agent.reconciler.idle();
    await tamper();
    await waitFor(async () => agent.reconciler.counters.reverts === 1 && (await mode()) === "v1", { what: "drift reverted after an offline restart" });
    await waitFor(() => agent.reporter.pending() >= 2 || undefined, { what: "reports of both runs queued" });

    // NATS returns: everything spooled is delivered, exactly once each.
    await nats.start();
    await waitFor(() => agent.reporter.pending() === 0, { what: "spool drained", timeoutMs: 60_000 });
    made.statuses += agent.reconciler.counters.statuses;
    made.drifts += agent.reconciler.counters.drifts;
    const reports = await hub.reports();
    const ofKind = (k: string) => reports.filter((r) => r.report.kind === k);
    expect(new Set(reports.map((r) => r.msgId)).size).toBe(reports.length);
    expect(ofKind("drift")).toHaveLength(made.drifts);
    expect(made.drifts).toBe(2);
    expect(ofKind("status")).toHaveLength(made.statuses);
    expect(ofKind("drift").map((r) => r.report.kind === "drift" && [r.report.agent, r.report.action])).toEqual([
      [`${cluster}/run-1`, "reverted"],
      [`${cluster}/run-2`, "reverted"],
    ]);

    // And the agent follows the hub again.
    await publish(2, [configMap(ns, "settings", { mode: "v2" })]);
    await waitFor(async () => (await mode()) === "v2", { what: "revision 2 applied after NATS returned" });
  });

  it("runs as a tenant through NATS: namespace-scoped identity, inventories in its first namespace", async () => {
    const a = await plane.freshNamespace("nats-tenant-a");
    const b = await plane.freshNamespace("nats-tenant-b");
    const identity = await plane.mintNamespacedIdentity({ name: "flotilla-agent", namespaces: [a, b] });
    const cluster = `tenant-${randomBytes(3).toString("hex")}`;
    const hub = await startHubSim();
    cleanups.push(() => hub.dispose());
    const stateDir = await mkdtemp(join(tmpdir(), "flotilla-agent-tenant-"));
    cleanups.push(() => rm(stateDir, { recursive: true, force: true }));
    const kube = new KubeClient(plane.kubeConfig);
    cleanups.push(async () => kube.close());

    await hub.publish(cluster, 1, [{ name: "team", policy: { drift: "enforce", prune: true, ignore: [] }, objects: [configMap(a, "one", { k: "1" }), configMap(b, "two", { k: "2" })] }], [a, b]);
    const agent = await startAgent({ cluster, natsUrl: hub.nats.url, hubPublicKey: hub.key.publicKey, kubeconfig: identity.kubeConfig, stateDir, namespaces: [a, b], heartbeatIntervalMs: 3_600_000, tuning: { statusDebounceMs: 50 } });
    cleanups.push(() => agent.stop());

    const status = await waitFor(async () => {
      const r = (await hub.reports()).map((x) => x.report).find((x) => x.kind === "status" && x.syncState !== "Applying");
      return r?.kind === "status" ? r : undefined;
    }, { what: "status on the report stream" });
    expect(status.syncState).toBe("Synced");
    expect(status.apps[0]?.objects.map((o) => `${o.ref.namespace}/${o.ref.name}:${o.action}`).sort()).toEqual([`${a}/one:created`, `${b}/two:created`]);
    const inventory = await kube.get({ apiVersion: "v1", kind: "ConfigMap", namespace: a, name: "flotilla-inventory-team" });
    expect(inventory.ok && inventory.value?.metadata.labels).toMatchObject({ "flotilla.dev/cluster": cluster, "flotilla.dev/inventory": "true" });
    expect(agent.reconciler.watchStats().kinds.map((k) => k.namespace).sort()).toEqual([a, b].sort());

    // Drift in the second namespace reaches the hub's stream as a ledger entry.
    await kube.patch({ apiVersion: "v1", kind: "ConfigMap", namespace: b, name: "two" }, { data: { k: "changed" } }, PatchType.Merge, { fieldManager: "someone" });
    const drift = await waitFor(async () => (await hub.reports()).map((x) => x.report).find((x) => x.kind === "drift"), { what: "drift on the report stream" });
    expect(drift).toMatchObject({ kind: "drift", cluster, app: "team", object: { namespace: b, name: "two" }, actor: "someone", action: "reverted" });
  });
});
