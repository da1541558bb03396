import { computeHealth } from "@flotilla/health";
import { Health } from "@flotilla/model";
import { useSharedControlPlane } from "@flotilla/testkit/vitest";
import { afterAll, describe, expect, it } from "vitest";
import { KubeClient, ResourceManager, targetOf } from "../src/index.js";
import { configMap, deployment } from "./objects.js";

const plane = useSharedControlPlane();
const client = new KubeClient(plane.kubeConfig);
const manager = new ResourceManager(client);
afterAll(() => client.close());

describe("waitForReady", () => {
  it("waits until a Deployment rolled out on the fake nodes is Healthy", async () => {
    const ns = await plane.freshNamespace("ready");
    const d = deployment(ns, "web", 2);
    const cs = await manager.applyAll([d]);
    expect(computeHealth(cs.entries[0]?.applied).health).toBe(Health.Progressing);
    const r = await manager.waitForReady([targetOf(d)], (o) => computeHealth(o).health === Health.Healthy, { timeoutMs: 60_000, intervalMs: 200 });
    expect(r).toMatchObject({ ready: true, aborted: false, pending: [] });
    expect(computeHealth(r.last.get(r.last.keys().next().value!))).toMatchObject({ health: "Healthy", reason: "Current" });
  });

  it("stops early when its signal aborts, naming what is still pending", async () => {
    const ns = await plane.freshNamespace("abort");
    const cm = configMap(ns, "c", { a: "1" });
    await manager.applyAll([cm]);
    const abort = new AbortController();
    const waiting = manager.waitForReady([targetOf(cm)], () => false, { timeoutMs: 120_000, signal: abort.signal, intervalMs: 50 });
    abort.abort(); // a new revision arrived
    const r = await waiting;
    expect(r).toMatchObject({ ready: false, aborted: true, pending: [targetOf(cm)] });
  });
});
