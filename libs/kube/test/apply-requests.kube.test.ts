// How many round trips an apply takes, on the real API server: a create is one apply (no dry-run);
// an object the caller knows changed is one apply (no dry-run); a live view from the caller (the
// agent's watch cache) replaces the GET; an unknown object keeps GET + dry-run, so an unchanged
// one is never written. The action and the changes reported are the same either way.
import type { KubeObject } from "@flotilla/model";
import { refKey, refOf } from "@flotilla/model";
import { useSharedControlPlane } from "@flotilla/testkit/vitest";
import { afterAll, describe, expect, it } from "vitest";
import { ResourceManager, type ChangeSet } from "../src/index.js";
import { CountingKubeClient } from "../src/testing/index.js";
import { configMap, readLive, rvOf } from "./objects.js";

const plane = useSharedControlPlane();
const client = new CountingKubeClient(plane.kubeConfig);
const manager = new ResourceManager(client);
const owner = { app: "shop", cluster: "c1" };
afterAll(() => client.close());

const actions = (cs: ChangeSet): Record<string, string> => Object.fromEntries(cs.entries.map((e) => [`${e.ref.kind}/${e.ref.name}`, e.action]));
const appliedByKey = (cs: ChangeSet) => new Map(cs.entries.map((e) => [refKey(e.ref), e.applied!]));
const viewOf = (view: Map<string, KubeObject>) => (o: KubeObject) => view.get(refKey(refOf(o)));

const liveOf = (o: KubeObject) => readLive(client, o);

describe("apply round trips", () => {
  it("creates with one GET and one apply, no dry-run", async () => {
    const ns = await plane.freshNamespace("reqcreate");
    client.reset();
    const cs = await manager.applyAll([configMap(ns, "a", { k: "1" }), configMap(ns, "b", { k: "1" })], { owner });
    expect(actions(cs)).toEqual({ "ConfigMap/a": "created", "ConfigMap/b": "created" });
    expect(client.counts).toEqual({ get: 2, list: 0, apply: 2, dryRun: 0 });
  });

  it("applies a changed object at once and reads live objects from the caller's view", async () => {
    const ns = await plane.freshNamespace("reqchanged");
    const first = await manager.applyAll([configMap(ns, "a", { k: "1" }), configMap(ns, "b", { k: "1" })], { owner });
    const view = appliedByKey(first);
    const rvA = rvOf(first.entries[0]!.applied!);
    client.reset();
    const cs = await manager.applyAll([configMap(ns, "a", { k: "1" }), configMap(ns, "b", { k: "2" })], {
      owner,
      liveOf: viewOf(view),
      expectsWrite: (o) => o.metadata.name === "b",
    });
    expect(actions(cs)).toEqual({ "ConfigMap/a": "unchanged", "ConfigMap/b": "configured" });
    expect(cs.entries.find((e) => e.ref.name === "b")?.changes).toEqual([{ path: "/data/k", desired: "2", live: "1" }]);
    // a: dry-run only (unchanged, not written); b: one apply; neither read with a GET.
    expect(client.counts).toEqual({ get: 0, list: 0, apply: 1, dryRun: 1 });
    expect(rvOf((await liveOf(configMap(ns, "a", {})))!)).toBe(rvA);
    expect((await liveOf(configMap(ns, "b", {})))?.["data"]).toEqual({ k: "2" });
  });

  it("reports an apply the caller expected to write, but that changed nothing, as unchanged (and the server wrote nothing)", async () => {
    const ns = await plane.freshNamespace("reqsame");
    const first = await manager.applyAll([configMap(ns, "a", { k: "1" })], { owner });
    const rv = rvOf(first.entries[0]!.applied!);
    const cs = await manager.applyAll([configMap(ns, "a", { k: "1" })], { owner, liveOf: viewOf(appliedByKey(first)), expectsWrite: () => true });
    expect(actions(cs)).toEqual({ "ConfigMap/a": "unchanged" });
    expect(rvOf((await liveOf(configMap(ns, "a", {})))!)).toBe(rv);
  });

  it("applies correctly from a stale view: the server's object is what counts", async () => {
    const ns = await plane.freshNamespace("reqstale");
    const first = await manager.applyAll([configMap(ns, "a", { k: "1" })], { owner });
    const stale = appliedByKey(first);
    // Someone else changes it after the view was taken.
    await manager.applyAll([configMap(ns, "a", { k: "9" })], { owner });
    const cs = await manager.applyAll([configMap(ns, "a", { k: "2" })], { owner, liveOf: viewOf(stale), expectsWrite: () => true });
    expect(actions(cs)).toEqual({ "ConfigMap/a": "configured" });
    expect((await liveOf(configMap(ns, "a", {})))?.["data"]).toEqual({ k: "2" });
    // Unknown to the view and not expected to change: GET + dry-run, no write.
    const rv = rvOf((await liveOf(configMap(ns, "a", {})))!);
    client.reset();
    const again = await manager.applyAll([configMap(ns, "a", { k: "2" })], { owner, liveOf: () => undefined, expectsWrite: () => false });
    expect(actions(again)).toEqual({ "ConfigMap/a": "unchanged" });
    expect(client.counts).toEqual({ get: 1, list: 0, apply: 0, dryRun: 1 });
    expect(rvOf((await liveOf(configMap(ns, "a", {})))!)).toBe(rv);
  });

  it("an immutable field refused on a direct apply is reported, and recreated only when allowed", async () => {
    const ns = await plane.freshNamespace("reqimmutable");
    const v1 = { ...configMap(ns, "frozen", { a: "1" }), immutable: true };
    const created = await manager.applyAll([v1], { owner });
    const v2 = { ...v1, data: { a: "2" } };
    const hint = { liveOf: viewOf(appliedByKey(created)), expectsWrite: () => true };
    const refused = await manager.applyAll([v2], { owner, ...hint });
    expect(refused.entries[0]).toMatchObject({ action: "failed", reason: "ImmutableField" });
    const recreated = await manager.applyAll([v2], { owner, ...hint, recreateOnImmutable: true });
    expect(recreated.entries[0]).toMatchObject({ action: "created", reason: "Applied" });
    expect((await liveOf(v1))?.["data"]).toEqual({ a: "2" });
  });
});
