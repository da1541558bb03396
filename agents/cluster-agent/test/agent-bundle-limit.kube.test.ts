// maxBundleBytes on the agent, end to end through NATS and a real kube-apiserver: a pointer whose
// bundle is larger in the object store than the agent's limit is refused before the bundle is
// read, with a status naming the cluster, the size and the limit (FLOTILLA_ERR_BUNDLE_TOO_LARGE);
// the agent keeps enforcing its last verified bundle, and follows the next pointer under the limit.
import { mkdtemp, rm } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { KubeClient, PatchType } from "@flotilla/kube";
import { ErrorCode, type KubeObject, type StatusReport } from "@flotilla/model";
import { waitFor } from "@flotilla/testkit";
import { useSharedControlPlane } from "@flotilla/testkit/vitest";
import { startAgent } from "../src/agent.js";
import { startHubSim } from "./support/hub-sim.js";
import { configMap } from "./support/objects.js";

const plane = useSharedControlPlane();
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
});

const LIMIT = 64 * 1024;

describe("agent maxBundleBytes", () => {
  it("refuses an oversize bundle unread, reports why, keeps enforcing the last verified one, and follows the next", async () => {
    const ns = await plane.freshNamespace("bundle-limit");
    const cluster = `big-${randomBytes(3).toString("hex")}`;
    const hub = await startHubSim();
    cleanups.push(() => hub.dispose());
    const stateDir = await mkdtemp(join(tmpdir(), "flotilla-agent-bundle-limit-"));
    cleanups.push(() => rm(stateDir, { recursive: true, force: true }));
    const kube = new KubeClient(plane.kubeConfig);
    cleanups.push(async () => kube.close());
    const publish = (generation: number, objects: KubeObject[]) => hub.publish(cluster, generation, [{ name: "web", policy: { drift: "enforce", prune: true, ignore: [] }, objects }]);
    const mode = async () => ((await kube.get({ apiVersion: "v1", kind: "ConfigMap", namespace: ns, name: "settings" })) as { value?: { data?: Record<string, string> } }).value?.data?.["mode"];

    await publish(1, [configMap(ns, "settings", { mode: "v1" })]);
    const agent = await startAgent({ cluster, natsUrl: hub.nats.url, hubPublicKey: hub.key.publicKey, kubeconfig: plane.kubeConfig, stateDir, heartbeatIntervalMs: 3_600_000, maxBundleBytes: LIMIT, tuning: { statusDebounceMs: 50 } });
    cleanups.push(() => agent.stop());
    await waitFor(async () => (await mode()) === "v1", { what: "generation 1 applied" });

    // Generation 2 carries a ConfigMap three times the agent's limit.
    await publish(2, [configMap(ns, "settings", { mode: "v2", blob: "x".repeat(3 * LIMIT) })]);
    const refused = await waitFor(async () => {
      const statuses = (await hub.reports()).map((r) => r.report).filter((r): r is StatusReport => r.kind === "status");
      return statuses.find((s) => s.lastError?.code === ErrorCode.BundleTooLarge);
    }, { what: "a status naming the oversize bundle" });
    expect(refused.syncState).toBe("Failed");
    expect(refused.generation).toBe(1);
    expect(refused.lastError!.message).toMatch(new RegExp(`for cluster "${cluster}" generation 2 is \\d+ bytes in object store .*, over this agent's limit of ${LIMIT} bytes`));
    expect(Number(/is (\d+) bytes/.exec(refused.lastError!.message)![1])).toBeGreaterThan(3 * LIMIT);
    expect(agent.reconciler.desired?.pointer.generation).toBe(1);

    // The last verified bundle is still enforced: a drift is reverted to v1.
    await kube.patch({ apiVersion: "v1", kind: "ConfigMap", namespace: ns, name: "settings" }, { data: { mode: "tampered" } }, PatchType.Merge, { fieldManager: "intruder" });
    await waitFor(async () => agent.reconciler.counters.reverts >= 1 && (await mode()) === "v1", { what: "drift reverted to the last verified bundle" });

    // The next pointer under the limit is followed.
    await publish(3, [configMap(ns, "settings", { mode: "v3" })]);
    await waitFor(async () => (await mode()) === "v3", { what: "generation 3 applied" });
    expect(agent.reconciler.desired?.pointer.generation).toBe(3);
  });
});
