// Patch target selection: anchored regexes for ids, Kubernetes label selectors for labels.
import { describe, expect, it } from "vitest";
import { parseLabelSelector, PatchError, selectTargets, type KubeObject } from "../../src/patch/index.js";

const objects: KubeObject[] = [
  { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "api", labels: { app: "api", tier: "backend" }, annotations: { owner: "pay" } } },
  { apiVersion: "apps/v1", kind: "StatefulSet", metadata: { name: "db", namespace: "data", labels: { app: "db", tier: "backend" } } },
  { apiVersion: "v1", kind: "Service", metadata: { name: "api", labels: { app: "api", tier: "frontend" } } },
  { apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler", metadata: { name: "api-hpa" } },
];

describe("selectTargets", () => {
  it("treats group, version, kind, name and namespace as anchored regexes", () => {
    expect(selectTargets(objects, { name: "api" })).toEqual([0, 2]);
    expect(selectTargets(objects, { name: "ap" })).toEqual([]);
    expect(selectTargets(objects, { name: "api.*" })).toEqual([0, 2, 3]);
    expect(selectTargets(objects, { kind: "Deployment|StatefulSet" })).toEqual([0, 1]);
    expect(selectTargets(objects, { group: "apps", version: "v1" })).toEqual([0, 1]);
    expect(selectTargets(objects, { version: "v1" })).toEqual([0, 1, 2]);
    expect(selectTargets(objects, { group: "autoscaling" })).toEqual([3]);
    expect(selectTargets(objects, {})).toEqual([0, 1, 2, 3]);
  });

  it("puts namespaced objects without a namespace in namespace default, cluster-scoped ones in none", () => {
    expect(selectTargets(objects, { namespace: "data" })).toEqual([1]);
    expect(selectTargets(objects, { namespace: "default", kind: "Service" })).toEqual([2]);
    const clusterRole: KubeObject = { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name: "cr" } };
    const widget: KubeObject = { apiVersion: "example.com/v1", kind: "Widget", metadata: { name: "w" } };
    expect(selectTargets([clusterRole, widget], { namespace: "default" })).toEqual([1]);
    expect(selectTargets([clusterRole, widget], { namespace: ".*" })).toEqual([0, 1]);
  });

  it("matches names and namespaces the objects had before prefixes were applied", () => {
    const renamed = objects.map((o) => ({ ...o, metadata: { ...o.metadata, name: `prod-${o.metadata.name}`, namespace: "prod" } }));
    const originals = objects.map((o) => ({ name: o.metadata.name, namespace: o.metadata.namespace ?? "" }));
    expect(selectTargets(renamed, { name: "db", namespace: "data" }, originals)).toEqual([1]);
    expect(selectTargets(renamed, { name: "db" })).toEqual([]);
  });

  it("filters by label and annotation selectors", () => {
    expect(selectTargets(objects, { labelSelector: "tier=backend,app!=db" })).toEqual([0]);
    expect(selectTargets(objects, { labelSelector: "tier in (frontend, edge)" })).toEqual([2]);
    expect(selectTargets(objects, { labelSelector: "app notin (api)" })).toEqual([1, 3]);
    expect(selectTargets(objects, { labelSelector: "!tier" })).toEqual([3]);
    expect(selectTargets(objects, { annotationSelector: "owner" })).toEqual([0]);
  });

  it("rejects a malformed regex or selector with a PatchError", () => {
    expect(() => selectTargets(objects, { name: "(" })).toThrow(PatchError);
    expect(() => selectTargets(objects, { labelSelector: "a in b" })).toThrow(PatchError);
  });
});

describe("parseLabelSelector", () => {
  it.each([
    ["app=web", { app: "web" }, true],
    ["app==web", { app: "web" }, true],
    ["app!=web", {}, true],
    ["app,tier", { app: "x" }, false],
    ["replicas>2", { replicas: "3" }, true],
    ["replicas<2", { replicas: "3" }, false],
    ["app.kubernetes.io/name in (shop,cart)", { "app.kubernetes.io/name": "cart" }, true],
    ["", {}, true],
  ])("%s on %j → %s", (selector, labels, want) => {
    expect(parseLabelSelector(selector)(labels)).toBe(want);
  });
});
