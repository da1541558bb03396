import { randomBytes } from "node:crypto";
import type { KubeObject } from "@flotilla/model";
import { refKey } from "@flotilla/model";
import { useSharedControlPlane } from "@flotilla/testkit/vitest";
import { waitFor } from "@flotilla/testkit";
import { afterAll, describe, expect, it } from "vitest";
import { KubeClient, ResourceManager, type ChangeSet } from "../src/index.js";
import { configMap, deployment, namespace, role, roleBinding, readLive, rvOf, secret, service, serviceAccount, widget, widgetCrd } from "./objects.js";

const plane = useSharedControlPlane();
const client = new KubeClient(plane.kubeConfig);
const manager = new ResourceManager(client);
const owner = { app: "shop", cluster: "c1" };
afterAll(() => client.close());

const actions = (cs: ChangeSet): Record<string, string> => Object.fromEntries(cs.entries.map((e) => [`${e.ref.kind}/${e.ref.name}`, e.action]));

const liveOf = (o: KubeObject) => readLive(client, o);

describe("applyAll", () => {
  it("applies a CRD, a Namespace and a custom resource in that Namespace in one batch", async () => {
    const group = `t${randomBytes(3).toString("hex")}.flotilla.dev`;
    const ns = `crd-${randomBytes(3).toString("hex")}`;
    // Deliberately in the wrong order: the manager stages them.
    const objects = [widget(group, ns, "w1", 3), configMap(ns, "cfg", { a: "1" }), namespace(ns), widgetCrd(group)];
    try {
      const cs = await manager.applyAll(objects, { owner });
      expect(cs.entries.map((e) => `${e.action} ${e.ref.kind}`)).toEqual([
        "created CustomResourceDefinition",
        "created Namespace",
        "created ConfigMap",
        "created Widget",
      ]);
      const w = await liveOf(widget(group, ns, "w1", 3));
      expect(w?.["spec"]).toEqual({ size: 3 });
      expect(w?.metadata.labels).toMatchObject({ "flotilla.dev/app": "shop", "flotilla.dev/cluster": "c1" });
      // And again: nothing to do.
      const again = await manager.applyAll(objects, { owner });
      expect(new Set(again.entries.map((e) => e.action))).toEqual(new Set(["unchanged"]));
    } finally {
      await client.delete(namespace(ns));
      await client.delete(widgetCrd(group));
    }
  });

  it("re-applying the same bundle is all unchanged and makes zero writes", async () => {
    const ns = await plane.freshNamespace("idem");
    const bundle = [
      deployment(ns, "web", 0),
      roleBinding(ns, "reader", "reader", "app"),
      service(ns, "web"),
      secret(ns, "creds", { password: "hunter2-very-secret" }),
      configMap(ns, "cfg", { a: "1", b: "2" }),
      role(ns, "reader"),
      serviceAccount(ns, "app"),
    ];
    const first = await manager.applyAll(bundle, { owner });
    expect(first.entries.map((e) => `${e.action} ${e.ref.kind}`)).toEqual([
      "created ServiceAccount",
      "created Secret",
      "created ConfigMap",
      "created Role",
      "created RoleBinding",
      "created Service",
      "created Deployment",
    ]);
    // Let the Deployment controller finish its status writes, so that resourceVersions only
    // change if we write.
    await waitFor(async () => {
      const d = await liveOf(bundle[0]!);
      const status = d?.["status"] as { observedGeneration?: number; conditions?: { type: string; reason?: string }[] } | undefined;
      return status?.observedGeneration === d?.metadata["generation"] && status?.conditions?.some((c) => c.reason === "NewReplicaSetAvailable");
    }, { what: "the Deployment controller to settle" });

    const before = new Map<string, string | undefined>();
    for (const o of bundle) before.set(`${o.kind}/${o.metadata.name}`, rvOf(await liveOf(o)));

    const second = await manager.applyAll(bundle, { owner });
    expect(Object.values(actions(second))).toEqual(Array(bundle.length).fill("unchanged"));
    for (const o of bundle) expect(rvOf(await liveOf(o)), `${o.kind}/${o.metadata.name}`).toBe(before.get(`${o.kind}/${o.metadata.name}`));
  });

  it("configures only the object whose field changed", async () => {
    const ns = await plane.freshNamespace("precise");
    const bundle = [configMap(ns, "a", { k: "1" }), configMap(ns, "b", { k: "1" }), service(ns, "web"), deployment(ns, "web", 0)];
    await manager.applyAll(bundle, { owner });
    const changed = [configMap(ns, "a", { k: "1" }), configMap(ns, "b", { k: "2" }), service(ns, "web"), deployment(ns, "web", 0)];
    const cs = await manager.applyAll(changed, { owner });
    expect(actions(cs)).toEqual({ "ConfigMap/a": "unchanged", "ConfigMap/b": "configured", "Service/web": "unchanged", "Deployment/web": "unchanged" });
    const b = cs.entries.find((e) => e.ref.name === "b");
    expect(b?.changes).toEqual([{ path: "/data/k", desired: "2", live: "1" }]);
    expect((await liveOf(changed[1]!))?.["data"]).toEqual({ k: "2" });
  });

  it("applies the valid objects when one is invalid, naming the invalid one and the server's reason", async () => {
    const ns = await plane.freshNamespace("partial");
    const bad: KubeObject = { ...service(ns, "bad"), spec: { ports: [{ port: 99999 }] } };
    const cs = await manager.applyAll([configMap(ns, "good", { a: "1" }), bad, serviceAccount(ns, "sa")], { owner });
    expect(actions(cs)).toEqual({ "ServiceAccount/sa": "created", "ConfigMap/good": "created", "Service/bad": "failed" });
    const failed = cs.entries.find((e) => e.action === "failed");
    expect(failed?.reason).toBe("Invalid");
    expect(failed?.message).toContain(`Service ${ns}/bad`);
    expect(failed?.failure).toMatchObject({ status: 422, reason: "Invalid" });
    expect(await liveOf(configMap(ns, "good", {}))).toBeDefined();
  });

  it("reports a missing namespace clearly", async () => {
    const ns = `missing-${randomBytes(3).toString("hex")}`;
    const cs = await manager.applyAll([configMap(ns, "c", { a: "1" })], { owner });
    expect(cs.entries[0]).toMatchObject({
      action: "failed",
      reason: "NamespaceMissing",
      message: `ConfigMap ${ns}/c: namespace "${ns}" does not exist; add the Namespace to the bundle or create it first`,
    });
  });

  it("fails an object of an unknown kind and applies the rest", async () => {
    const ns = await plane.freshNamespace("unknown");
    const cs = await manager.applyAll([widget("nope.flotilla.dev", ns, "w", 1), configMap(ns, "c", { a: "1" })], { owner });
    expect(actions(cs)).toEqual({ "ConfigMap/c": "created", "Widget/w": "failed" });
    expect(cs.entries.find((e) => e.ref.kind === "Widget")?.reason).toBe("UnknownKind");
  });

  it("reports an immutable field conflict and recreates only when allowed", async () => {
    const ns = await plane.freshNamespace("immutable");
    const v1 = { ...configMap(ns, "frozen", { a: "1" }), immutable: true };
    const created = await manager.applyAll([v1], { owner });
    const uid = created.entries[0]?.applied?.metadata["uid"];
    const v2 = { ...v1, data: { a: "2" } };
    const refused = await manager.applyAll([v2], { owner });
    expect(refused.entries[0]).toMatchObject({ action: "failed", reason: "ImmutableField" });
    expect((await liveOf(v1))?.["data"]).toEqual({ a: "1" });

    const recreated = await manager.applyAll([v2], { owner, recreateOnImmutable: true });
    expect(recreated.entries[0]).toMatchObject({ action: "created", reason: "Applied" });
    const live = await liveOf(v1);
    expect(live?.["data"]).toEqual({ a: "2" });
    expect(live?.metadata["uid"]).not.toBe(uid);
  });

  it("honours the opt-out annotations reconcile: disabled and create-only", async () => {
    const ns = await plane.freshNamespace("optout");
    const skipped = configMap(ns, "skipped", { a: "1" }, { "flotilla.dev/reconcile": "disabled" });
    const once = configMap(ns, "once", { a: "1" }, { "flotilla.dev/create-only": "true" });
    const first = await manager.applyAll([skipped, once], { owner });
    expect(actions(first)).toEqual({ "ConfigMap/skipped": "skipped", "ConfigMap/once": "created" });
    expect(first.entries.find((e) => e.ref.name === "skipped")?.reason).toBe("SkippedByAnnotation");
    expect(await liveOf(skipped)).toBeUndefined();

    const second = await manager.applyAll([{ ...once, data: { a: "changed" } }], { owner });
    expect(second.entries[0]).toMatchObject({ action: "skipped", reason: "CreateOnlyExists" });
    expect((await liveOf(once))?.["data"]).toEqual({ a: "1" });
  });

  it("masks Secret values in change sets and messages", async () => {
    const ns = await plane.freshNamespace("secrets");
    await manager.applyAll([secret(ns, "db", { password: "first-password-value" })], { owner });
    const cs = await manager.applyAll([secret(ns, "db", { password: "second-password-value" })], { owner });
    const entry = cs.entries[0]!;
    expect(entry.action).toBe("configured");
    expect(entry.changes?.map((c) => c.path)).toEqual(["/data/password"]);
    const { applied: _applied, ...reported } = entry;
    const text = JSON.stringify(reported);
    for (const v of ["first-password-value", "second-password-value"]) {
      expect(text).not.toContain(v);
      expect(text).not.toContain(Buffer.from(v).toString("base64"));
    }
  });

  it("sets the ownership labels on every object", async () => {
    const ns = await plane.freshNamespace("owner");
    const cs = await manager.applyAll([configMap(ns, "c", { a: "1" }), serviceAccount(ns, "sa")], { owner });
    for (const e of cs.entries) expect(e.applied?.metadata.labels, refKey(e.ref)).toMatchObject({ "flotilla.dev/app": "shop", "flotilla.dev/cluster": "c1" });
  });

  it("reports a forbidden cluster-scoped write of a namespaced identity, naming the identity", async () => {
    const ns = await plane.freshNamespace("tenant");
    const identity = await plane.mintNamespacedIdentity({ name: "agent", namespaces: [ns] });
    const tenantClient = new KubeClient(identity.kubeConfig);
    try {
      const tenant = new ResourceManager(tenantClient);
      const clusterRole: KubeObject = { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name: `tenant-${ns}` }, rules: [] };
      const cs = await tenant.applyAll([configMap(ns, "c", { a: "1" }), clusterRole], { owner });
      expect(actions(cs)).toEqual({ [`ClusterRole/tenant-${ns}`]: "failed", "ConfigMap/c": "created" });
      const denied = cs.entries.find((e) => e.action === "failed");
      expect(denied).toMatchObject({ reason: "Forbidden", failure: { status: 403 } });
      expect(denied?.message).toContain(identity.user);
    } finally {
      tenantClient.close();
    }
  });

  it("diff tells what an apply would do without writing", async () => {
    const ns = await plane.freshNamespace("diff");
    const cm = configMap(ns, "c", { a: "1" });
    expect(await manager.diff(cm, { owner })).toMatchObject({ action: "created" });
    expect(await liveOf(cm)).toBeUndefined();
    await manager.applyAll([cm], { owner });
    expect(await manager.diff(cm, { owner })).toMatchObject({ action: "unchanged" });
    const rv = rvOf(await liveOf(cm));
    expect(await manager.diff(configMap(ns, "c", { a: "2" }), { owner })).toMatchObject({ action: "configured", changes: [{ path: "/data/a", desired: "2", live: "1" }] });
    expect(rvOf(await liveOf(cm))).toBe(rv);
  });

  it("reads and deletes by a version-less ObjectRef", async () => {
    const ns = await plane.freshNamespace("byref");
    await manager.applyAll([deployment(ns, "web", 0)], { owner });
    const ref = { group: "apps", kind: "Deployment", namespace: ns, name: "web" };
    const got = await client.get(ref);
    expect(got.ok && got.value?.apiVersion).toBe("apps/v1");
    expect(await client.get({ group: "nope.example.com", kind: "Thing", namespace: ns, name: "x" })).toEqual({ ok: true, value: undefined });
    expect(await client.delete(ref)).toEqual({ ok: true, value: "deleted" });
    expect(await client.delete(ref)).toEqual({ ok: true, value: "absent" });
  });

  it("reports a changed Job template as an immutable field and recreates the Job when allowed", async () => {
    const ns = await plane.freshNamespace("job");
    const job = (image: string): KubeObject => ({
      apiVersion: "batch/v1",
      kind: "Job",
      metadata: { name: "migrate", namespace: ns },
      spec: { suspend: true, template: { spec: { restartPolicy: "Never", containers: [{ name: "m", image }] } } },
    });
    await manager.applyAll([job("registry.example/migrate:1")], { owner });
    const refused = await manager.applyAll([job("registry.example/migrate:2")], { owner });
    expect(refused.entries[0]).toMatchObject({ action: "failed", reason: "ImmutableField" });
    expect(refused.entries[0]?.message).toContain(`Job.batch ${ns}/migrate`);
    const recreated = await manager.applyAll([job("registry.example/migrate:2")], { owner, recreateOnImmutable: true });
    expect(recreated.entries[0]).toMatchObject({ action: "created" });
    const live = await liveOf(job(""));
    expect(JSON.stringify(live?.["spec"])).toContain("registry.example/migrate:2");
  });
});
