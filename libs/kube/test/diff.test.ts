import type { KubeObject } from "@flotilla/model";
import { describe, expect, it } from "vitest";
import { MASK, detectDrift, diffLive } from "../src/index.js";

const deployment = (replicas: number, image = "nginx:1.27"): KubeObject => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web", namespace: "shop", labels: { app: "web" } },
  spec: {
    replicas,
    selector: { matchLabels: { app: "web" } },
    template: {
      metadata: { labels: { app: "web" } },
      spec: { containers: [{ name: "web", image, ports: [{ containerPort: 80 }] }] },
    },
  },
});

/** The live object as the server returns it: defaults, bookkeeping, status, other containers. */
function live(replicas: number, image = "nginx:1.27", extra: Partial<KubeObject["metadata"]> = {}): KubeObject {
  const d = deployment(replicas, image);
  const spec = structuredClone(d["spec"]) as { template: { spec: { containers: Record<string, unknown>[] } } } & Record<string, unknown>;
  spec["progressDeadlineSeconds"] = 600;
  spec.template.spec.containers.unshift({ name: "sidecar", image: "envoy:1" });
  const c = spec.template.spec.containers[1];
  if (c) {
    c["imagePullPolicy"] = "IfNotPresent";
    c["ports"] = [{ containerPort: 80, protocol: "TCP" }];
  }
  return { ...d, metadata: { ...d.metadata, resourceVersion: "42", uid: "u", annotations: { "deployment.kubernetes.io/revision": "3" }, ...extra }, spec, status: { replicas } };
}

describe("diffLive", () => {
  it("reports nothing when the fields the desired object sets are equal", () => {
    expect(diffLive(deployment(2), live(2))).toEqual([]);
  });

  it("reports a changed scalar with desired and live values", () => {
    expect(diffLive(deployment(2), live(5))).toEqual([{ path: "/spec/replicas", desired: 2, live: 5 }]);
  });

  it("matches list items by their merge key, not their index", () => {
    // The live list has a sidecar first: the desired container is at index 1 there.
    expect(diffLive(deployment(2, "nginx:1.27"), live(2, "nginx:1.25"))).toEqual([
      { path: "/spec/template/spec/containers/1/image", desired: "nginx:1.27", live: "nginx:1.25" },
    ]);
  });

  it("reports a desired list item missing from the live list", () => {
    const d = deployment(1);
    const l = live(1);
    ((l["spec"] as { template: { spec: { containers: unknown[] } } }).template.spec.containers) = [{ name: "sidecar", image: "envoy:1" }];
    expect(diffLive(d, l)).toEqual([{ path: "/spec/template/spec/containers/0", desired: { name: "web", image: "nginx:1.27", ports: [{ containerPort: 80 }] }, live: undefined }]);
  });

  it("compares labels and annotations the desired object sets, and ignores the rest of metadata", () => {
    const d = deployment(1);
    d.metadata.annotations = { team: "a" };
    const l = live(1, "nginx:1.27", { labels: { app: "other", extra: "x" }, annotations: { team: "b", other: "y" } });
    expect(diffLive(d, l)).toEqual([
      { path: "/metadata/labels/app", desired: "web", live: "other" },
      { path: "/metadata/annotations/team", desired: "a", live: "b" },
    ]);
  });

  it("reads expected values from the baseline so server normalisation is not drift", () => {
    const d: KubeObject = { apiVersion: "v1", kind: "Pod", metadata: { name: "p" }, spec: { containers: [{ name: "a", resources: { limits: { cpu: "1000m" } } }] } };
    const applied: KubeObject = { ...d, spec: { containers: [{ name: "a", resources: { limits: { cpu: "1" } } }] } };
    expect(diffLive(d, applied)).toHaveLength(1); // naive: 1000m ≠ 1
    expect(diffLive(d, applied, { baseline: applied })).toEqual([]);
    const drifted: KubeObject = { ...d, spec: { containers: [{ name: "a", resources: { limits: { cpu: "2" } } }] } };
    expect(diffLive(d, drifted, { baseline: applied })).toEqual([{ path: "/spec/containers/0/resources/limits/cpu", desired: "1", live: "2" }]);
  });

  it("treats null, {} and [] in the manifest as matching an absent live field", () => {
    const d: KubeObject = {
      apiVersion: "v1",
      kind: "Pod",
      metadata: { name: "p" },
      spec: { containers: [{ name: "a", args: [], resources: {} }], securityContext: {}, template: { metadata: { creationTimestamp: null } } },
    };
    const l: KubeObject = { apiVersion: "v1", kind: "Pod", metadata: { name: "p" }, spec: { containers: [{ name: "a", image: "x" }], template: { metadata: {} } } };
    expect(diffLive(d, l)).toEqual([]);
    const withArgs: KubeObject = { ...l, spec: { containers: [{ name: "a", args: ["--debug"] }] } };
    expect(diffLive(d, withArgs)).toEqual([{ path: "/spec/containers/0/args", desired: [], live: ["--debug"] }]);
  });

  it("escapes pointer segments (RFC 6901)", () => {
    const d: KubeObject = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", annotations: { "example.com/a~b": "1" } } };
    const l: KubeObject = { ...d, metadata: { name: "c", annotations: { "example.com/a~b": "2" } } };
    expect(diffLive(d, l)[0]?.path).toBe("/metadata/annotations/example.com~1a~0b");
  });

  it("drops paths matched by ignore rules for the object", () => {
    expect(diffLive(deployment(2), live(5), { ignore: [{ kind: "Deployment", paths: ["/spec/replicas"] }] })).toEqual([]);
    expect(diffLive(deployment(2), live(5), { ignore: [{ kind: "StatefulSet", paths: ["/spec/replicas"] }] })).toHaveLength(1);
    expect(diffLive(deployment(2), live(5), { ignore: [{ name: "other", paths: ["/spec"] }] })).toHaveLength(1);
    expect(diffLive(deployment(2), live(5), { ignore: [{ paths: ["/spec"] }] })).toEqual([]);
  });

  it("masks Secret values and compares stringData through data", () => {
    const d: KubeObject = { apiVersion: "v1", kind: "Secret", metadata: { name: "s" }, stringData: { password: "hunter22" } };
    const same: KubeObject = { apiVersion: "v1", kind: "Secret", metadata: { name: "s" }, data: { password: Buffer.from("hunter22").toString("base64") } };
    expect(diffLive(d, same)).toEqual([]);
    const changed: KubeObject = { ...same, data: { password: Buffer.from("changed!").toString("base64") } };
    const paths = diffLive(d, changed);
    expect(paths).toEqual([{ path: "/data/password", desired: MASK, live: MASK }]);
    expect(JSON.stringify(paths)).not.toContain(Buffer.from("changed!").toString("base64"));
  });
});

describe("detectDrift", () => {
  it("is undefined without drift, and names paths and actor with it", () => {
    const l = live(2);
    expect(detectDrift(deployment(2), l, { fieldManager: "flotilla" })).toBeUndefined();
    const scaled = live(5);
    scaled.metadata["managedFields"] = [{ manager: "hpa", operation: "Update", time: "2026-01-01T00:00:00Z", fieldsV1: { "f:spec": { "f:replicas": {} } } }];
    expect(detectDrift(deployment(2), scaled, { fieldManager: "flotilla" })).toEqual({
      paths: [{ path: "/spec/replicas", desired: 2, live: 5 }],
      actor: { manager: "hpa", operation: "Update", time: "2026-01-01T00:00:00Z" },
    });
    expect(detectDrift(deployment(2), scaled, { fieldManager: "flotilla", ignore: [{ paths: ["/spec/replicas"] }] })).toBeUndefined();
  });
});
