// Offline, end to end through NATS: the agent keeps its last verified bundle on disk and keeps
// enforcing it while NATS is down and across its own restart; the reports it makes meanwhile are
// spooled and all delivered when NATS returns (counted: none lost, none doubled).
import { mkdtemp, rm } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { KubeClient, PatchType } from "@flotilla/kube";
import { BUNDLE_API_VERSION, type Bundle, type KubeObject } from "@flotilla/model";
import { canonicalJson, generateSigningKey, sha256Digest, wireNames } from "@flotilla/wire";
import { waitFor } from "@flotilla/testkit";
import { useSharedControlPlane } from "@flotilla/testkit/vitest";
import { startAgent, type Agent } from "../src/agent.js";
import { ensureWireResources, privateNats, publishBundle, putPointer, readReports, signedPointer, type PrivateNats } from "./nats-helpers.js";
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
    const names = wireNames("flotilla");
    const key = generateSigningKey();
    const nats: PrivateNats = await privateNats();
    cleanups.push(() => nats.dispose());
    await nats.start();
    const stateDir = await mkdtemp(join(tmpdir(), "flotilla-agent-offline-"));
    cleanups.push(() => rm(stateDir, { recursive: true, force: true }));
    const kube = new KubeClient(plane.kubeConfig);
    cleanups.push(async () => kube.close());

    // The hub's side: resources, a bundle by digest, a signed pointer.
    const hub = async <T>(fn: (nc: NatsConnection) => Promise<T>): Promise<T> => {
      const nc = await connect({ servers: nats.url });
      try {
        return await fn(nc);
      } finally {
        await nc.close();
      }
    };
    const cm = configMap(ns, "settings", { mode: "v1" });
    const publish = async (generation: number, objects: KubeObject[]) => {
      const bundle: Bundle = { apiVersion: BUNDLE_API_VERSION, cluster, revision: `r${generation}`, apps: [{ name: "web", policy: { drift: "enforce", prune: true, ignore: [] }, objects }] };
      const bytes = new TextEncoder().encode(canonicalJson(bundle));
      const digest = sha256Digest(bytes);
      await hub(async (nc) => {
        await publishBundle(nc, names, digest, bytes);
        await putPointer(nc, names, cluster, signedPointer(key, cluster, `r${generation}`, digest, generation));
      });
    };
    await hub((nc) => ensureWireResources(nc, names));
    await publish(1, [cm]);

    const start = (run: string) =>
      startAgent({
        cluster,
        agentId: `${cluster}/${run}`,
        natsUrl: nats.url,
        hubPublicKey: key.publicKey,
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
    const reports = await hub((nc) => readReports(nc, names));
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
});
