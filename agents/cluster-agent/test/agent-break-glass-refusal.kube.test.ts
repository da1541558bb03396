// Refused break-glass control records reach the hub, end to end through NATS: the agent reports
// them in its status's lastError (like refused pointers, but the sync state stays Synced), for a
// record signed by another key, one for another cluster and a replayed (stale) one; none of them
// opens a window.
import { mkdtemp, rm } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { connect } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { ErrorCode, type BreakGlassWindow, type ControlRecord } from "@flotilla/model";
import { controlKey, encodeJson, generateSigningKey, signControl, type SigningKey } from "@flotilla/wire";
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

describe("refused break-glass control records", () => {
  it("are reported to the hub in status.lastError and open no window", async () => {
    const ns = await plane.freshNamespace("bg-refusal");
    const cluster = `bgr-${randomBytes(3).toString("hex")}`;
    const hub = await startHubSim();
    cleanups.push(() => hub.dispose());
    const stateDir = await mkdtemp(join(tmpdir(), "flotilla-agent-bg-refusal-"));
    cleanups.push(() => rm(stateDir, { recursive: true, force: true }));
    await hub.publish(cluster, 1, [{ name: "web", policy: { drift: "enforce", prune: true, ignore: [] }, objects: [configMap(ns, "settings", { mode: "v1" })] }]);
    const agent = await startAgent({ cluster, natsUrl: hub.nats.url, hubPublicKey: hub.key.publicKey, kubeconfig: plane.kubeConfig, stateDir, heartbeatIntervalMs: 3_600_000, tuning: { statusDebounceMs: 50 } });
    cleanups.push(() => agent.stop());

    const statuses = async () => (await hub.reports()).flatMap((r) => (r.report.kind === "status" ? [r.report] : []));
    await waitFor(async () => (await statuses()).some((s) => s.generation === 1 && s.syncState === "Synced") || undefined, { what: "revision 1 Synced at the hub" });

    const nc = await connect({ servers: hub.nats.url });
    cleanups.push(() => nc.close());
    const kv = await new Kvm(jetstream(nc)).open(hub.names.desiredBucket);
    const now = Date.now();
    const window = (forCluster = cluster): BreakGlassWindow => ({
      id: `w-${randomBytes(2).toString("hex")}`,
      cluster: forCluster,
      scope: { kind: "cluster" },
      reason: "test",
      author: "mallory",
      startedAt: new Date(now).toISOString(),
      expiresAt: new Date(now + 3_600_000).toISOString(),
    });
    const put = (record: ControlRecord, key: SigningKey) => kv.put(controlKey(cluster), encodeJson(signControl(record, key)));
    const lastErrorIs = (code: string, refusals: number) =>
      waitFor(
        async () => {
          const last = (await statuses()).at(-1);
          return agent.breakGlass.counters.refused === refusals && last?.lastError?.code === code ? last : undefined;
        },
        { what: `a status with lastError ${code} at the hub` },
      );

    // Signed by another key.
    await put({ cluster, generation: 5, issuedAt: new Date(now).toISOString(), windows: [window()] }, generateSigningKey());
    const forged = await lastErrorIs(ErrorCode.SignatureInvalid, 1);
    // The desired state is still enforced: the sync does not fail over a control record.
    expect(forged).toMatchObject({ generation: 1, syncState: "Synced" });
    expect(forged.lastError?.message).toContain("does not verify with the hub key");
    expect(agent.breakGlass.active()).toEqual([]);

    // A record the hub signed accepted (no windows), then a replay of an older generation.
    await put({ cluster, generation: 3, issuedAt: new Date(now).toISOString(), windows: [] }, hub.key);
    await waitFor(() => agent.breakGlass.generation === 3 || undefined, { what: "generation 3 accepted" });
    await put({ cluster, generation: 2, issuedAt: new Date(now).toISOString(), windows: [window()] }, hub.key);
    const stale = await lastErrorIs(ErrorCode.StaleGeneration, 2);
    expect(stale.lastError?.message).toContain("generation 2");

    // Signed by the hub, but for another cluster.
    await put({ cluster: "someone-else", generation: 9, issuedAt: new Date(now).toISOString(), windows: [window("someone-else")] }, hub.key);
    const other = await lastErrorIs(ErrorCode.SignatureInvalid, 3);
    expect(other.lastError?.message).toContain(`is for cluster "someone-else"`);
    expect(agent.breakGlass.active()).toEqual([]);
    expect(agent.breakGlass.generation).toBe(3);

    // A new revision clears it: it says nothing about that revision.
    await hub.publish(cluster, 2, [{ name: "web", policy: { drift: "enforce", prune: true, ignore: [] }, objects: [configMap(ns, "settings", { mode: "v2" })] }]);
    const synced = await waitFor(async () => (await statuses()).find((s) => s.generation === 2 && s.syncState === "Synced"), { what: "revision 2 Synced at the hub" });
    expect(synced.lastError).toBeUndefined();
  });
});
