// Strategic merge patch: the rules kustomize v5 applies, table-tested on small objects.
import { describe, expect, it } from "vitest";
import { applyStrategicMergePatch, isDeletePatch, PatchError, type KubeObject } from "../../src/patch/index.js";

function deployment(spec: Record<string, unknown>, metadata: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", ...metadata }, spec };
}

/** Reads a nested value for an assertion: at(obj, "spec", "containers", 0, "env"). */
function at(obj: unknown, ...path: Array<string | number>): unknown {
  return path.reduce<unknown>((o, k) => (o as Record<string | number, unknown> | undefined)?.[k], obj);
}

const podSpec = (obj: KubeObject, ...path: Array<string | number>) => at(obj, "spec", "template", "spec", ...path);

const containers = (...cs: Record<string, unknown>[]) => ({ template: { spec: { containers: cs } } });

describe("applyStrategicMergePatch", () => {
  it("merges containers by name: patch elements first in patch order, then the others", () => {
    const target = deployment(containers({ name: "x", image: "x" }, { name: "app", image: "app" }, { name: "y", image: "y" }));
    const out = applyStrategicMergePatch(target, deployment(containers({ name: "y", image: "Y" }, { name: "new", image: "n" })));
    expect(podSpec(out, "containers")).toEqual([
      { name: "y", image: "Y" },
      { name: "new", image: "n" },
      { name: "x", image: "x" },
      { name: "app", image: "app" },
    ]);
  });

  it("merges env by name and deletes items marked $patch: delete", () => {
    const target = deployment(containers({ name: "app", env: [{ name: "A", value: "a" }, { name: "B", value: "b" }] }));
    const patch = deployment(containers({ name: "app", env: [{ name: "B", $patch: "delete" }, { name: "C", value: "c" }] }));
    expect(podSpec(applyStrategicMergePatch(target, patch), "containers", 0, "env")).toEqual([
      { name: "C", value: "c" },
      { name: "A", value: "a" },
    ]);
  });

  it("replaces lists without a merge key (args, tolerations)", () => {
    const target = deployment({ template: { spec: { containers: [{ name: "a", args: ["1", "2"] }], tolerations: [{ key: "t1" }] } } });
    const patch = deployment({ template: { spec: { containers: [{ name: "a", args: ["3"] }], tolerations: [{ key: "t2" }] } } });
    const out = applyStrategicMergePatch(target, patch);
    expect(podSpec(out, "containers", 0, "args")).toEqual(["3"]);
    expect(podSpec(out, "tolerations")).toEqual([{ key: "t2" }]);
  });

  it("matches container ports on containerPort and protocol, in place; new ports come first; partial matches are ignored", () => {
    const target = deployment(
      containers({ name: "a", ports: [{ containerPort: 80, protocol: "TCP", name: "http" }, { containerPort: 80, protocol: "UDP", name: "dns" }, { containerPort: 90 }] }),
    );
    const patch = deployment(containers({ name: "a", ports: [{ containerPort: 80, protocol: "UDP", name: "dns2" }, { containerPort: 8080, name: "new" }, { containerPort: 90, name: "n" }, { containerPort: 80, name: "partial" }] }));
    expect(podSpec(applyStrategicMergePatch(target, patch), "containers", 0, "ports")).toEqual([
      { containerPort: 8080, name: "new" },
      { containerPort: 80, protocol: "TCP", name: "http" },
      { containerPort: 80, protocol: "UDP", name: "dns2" },
      { containerPort: 90, name: "n" },
    ]);
  });

  it("removes keys set to null, and maps or lists marked $patch: delete", () => {
    const target = deployment({ replicas: 2, template: { spec: { containers: [{ name: "a", resources: { limits: { cpu: "1" } } }], nodeSelector: { a: "b" } } } }, { labels: { a: "1", b: "2" } });
    const patch = deployment(
      { replicas: null, template: { spec: { containers: [{ name: "a", resources: { $patch: "delete" } }], nodeSelector: { $patch: "delete" } } } },
      { labels: { a: null } },
    );
    const out = applyStrategicMergePatch(target, patch);
    expect(out.metadata.labels).toEqual({ b: "2" });
    expect(at(out, "spec", "replicas")).toBeUndefined();
    expect(podSpec(out, "nodeSelector")).toBeUndefined();
    expect(podSpec(out, "containers")).toEqual([{ name: "a" }]);
    const noContainers = applyStrategicMergePatch(target, deployment({ template: { spec: { containers: [{ $patch: "delete" }] } } }));
    expect(podSpec(noContainers, "containers")).toBeUndefined();
  });

  it("replaces a map or a whole list on $patch: replace", () => {
    const target = deployment({ template: { spec: { containers: [{ name: "a", resources: { limits: { cpu: "1" }, requests: { cpu: "1" } } }], volumes: [{ name: "v1", emptyDir: {} }] } } });
    const patch = deployment({
      template: { spec: { containers: [{ name: "a", resources: { $patch: "replace", requests: { cpu: "2" } } }], volumes: [{ $patch: "replace" }, { name: "v3", emptyDir: {} }] } },
    });
    const out = applyStrategicMergePatch(target, patch);
    expect(podSpec(out, "containers", 0, "resources")).toEqual({ requests: { cpu: "2" } });
    expect(podSpec(out, "volumes")).toEqual([{ name: "v3", emptyDir: {} }]);
  });

  it("cleans nulls and directives out of content the target does not have yet", () => {
    const target = deployment(containers({ name: "a" }));
    const patch = deployment(containers({ name: "side", env: [{ name: "Q", value: null }], resources: { limits: { cpu: null, memory: "1Gi" } } }), { annotations: { x: null } });
    const out = applyStrategicMergePatch(target, patch);
    expect(out.metadata.annotations).toBeUndefined();
    expect(podSpec(out, "containers", 0)).toEqual({ name: "side", env: [{ name: "Q" }], resources: { limits: { memory: "1Gi" } } });
  });

  it("merges finalizers as a set, patch values first", () => {
    const target: KubeObject = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", finalizers: ["a", "b", "c", "d"] } };
    const out = applyStrategicMergePatch(target, { metadata: { name: "c", finalizers: ["b", "z1", "z2", "c"] } });
    expect(out.metadata["finalizers"]).toEqual(["b", "z1", "z2", "c", "a", "d"]);
  });

  it("replaces every list of a custom resource (JSON merge semantics) but still merges maps", () => {
    const target: KubeObject = {
      apiVersion: "example.com/v1",
      kind: "Pipeline",
      metadata: { name: "p", finalizers: ["a"] },
      spec: { stages: [{ name: "a", image: "1" }, { name: "b", image: "2" }], settings: { retries: 1, timeout: "10m" } },
    };
    const out = applyStrategicMergePatch(target, { metadata: { name: "p", finalizers: ["b"] }, spec: { stages: [{ name: "b", image: "3" }], settings: { retries: 3 } } });
    expect(at(out, "spec", "stages")).toEqual([{ name: "b", image: "3" }]);
    expect(at(out, "spec", "settings")).toEqual({ retries: 3, timeout: "10m" });
    expect(out.metadata["finalizers"]).toEqual(["b"]);
  });

  it("honours $retainKeys and $deleteFromPrimitiveList, and drops $setElementOrder", () => {
    const target = deployment({ strategy: { type: "RollingUpdate", rollingUpdate: { maxSurge: 1 } }, template: { spec: { containers: [{ name: "a", args: ["x", "y", "z"] }] } } });
    const patch = deployment({
      strategy: { $retainKeys: ["type"], type: "Recreate" },
      template: { spec: { "$setElementOrder/containers": [{ name: "a" }], containers: [{ name: "a", "$deleteFromPrimitiveList/args": ["y"] }] } },
    });
    const out = applyStrategicMergePatch(target, patch);
    expect(at(out, "spec", "strategy")).toEqual({ type: "Recreate" });
    expect(podSpec(out)).toEqual({ containers: [{ name: "a", args: ["x", "z"] }] });
    expect(JSON.stringify(out)).not.toContain("$");
  });

  it("keeps the target's kind, name and namespace unless a change is allowed", () => {
    const target = deployment({ replicas: 1 }, { namespace: "prod" });
    const patch = { apiVersion: "apps/v1", kind: "StatefulSet", metadata: { name: "other", namespace: "dev" }, spec: { replicas: 2 } };
    const kept = applyStrategicMergePatch(target, patch);
    expect([kept.kind, kept.metadata.name, kept.metadata.namespace, at(kept, "spec", "replicas")]).toEqual(["Deployment", "web", "prod", 2]);
    const renamed = applyStrategicMergePatch(target, patch, { allowNameChange: true });
    expect(renamed.metadata.name).toBe("other");
  });

  it("does not modify its inputs", () => {
    const target = deployment(containers({ name: "a", env: [{ name: "A", value: "a" }] }));
    const patch = deployment(containers({ name: "a", env: [{ name: "A", $patch: "delete" }] }));
    const before = JSON.stringify([target, patch]);
    applyStrategicMergePatch(target, patch);
    expect(JSON.stringify([target, patch])).toBe(before);
  });

  it("reports a root $patch: delete instead of returning an object", () => {
    const patch = { $patch: "delete", apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web" } };
    expect(isDeletePatch(patch)).toBe(true);
    expect(() => applyStrategicMergePatch(deployment({}), patch)).toThrow(PatchError);
  });

  it("keeps a __proto__ key as data", () => {
    const target: KubeObject = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" }, data: JSON.parse('{"__proto__": "old", "a": "1"}') };
    const out = applyStrategicMergePatch(target, JSON.parse('{"data": {"__proto__": "new"}}'));
    expect(Object.keys(at(out, "data") as object)).toEqual(["__proto__", "a"]);
    expect(Object.getOwnPropertyDescriptor(at(out, "data"), "__proto__")?.value).toBe("new");
  });

  it("drops what kustomize drops when a keyed-list element lacks its merge key; the first of duplicate keys wins", () => {
    const target = deployment(containers({ name: "a", image: "a", env: [{ name: "A", value: "a" }] }));
    expect(podSpec(applyStrategicMergePatch(target, deployment(containers({ image: "nokey" }))), "containers")).toEqual([]);
    const dup = deployment(containers({ name: "a", env: [{ name: "A", value: "dup1" }, { name: "A", value: "dup2" }] }));
    expect(podSpec(applyStrategicMergePatch(target, dup), "containers", 0, "env")).toEqual([{ name: "A", value: "dup1" }]);
  });

  it("rejects unknown directives", () => {
    expect(() => applyStrategicMergePatch(deployment({ a: {} }), deployment({ a: { $patch: "explode" } }))).toThrow(/unknown patch directive "explode"/);
  });
});
