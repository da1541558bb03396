import type { KubeObject } from "@flotilla/model";
import { describe, expect, it } from "vitest";
import { driftActor, ownsPath } from "../src/index.js";

const live: KubeObject = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: {
    name: "web",
    namespace: "shop",
    labels: { app: "web" },
    managedFields: [
      {
        manager: "flotilla",
        operation: "Apply",
        apiVersion: "apps/v1",
        time: "2026-01-01T10:00:00Z",
        fieldsType: "FieldsV1",
        fieldsV1: {
          "f:metadata": { "f:labels": { "f:app": {} } },
          "f:spec": {
            "f:template": { "f:spec": { "f:containers": { 'k:{"name":"web"}': { ".": {}, "f:name": {}, "f:image": {} } } } },
          },
        },
      },
      {
        manager: "kubectl-scale",
        operation: "Update",
        apiVersion: "apps/v1",
        subresource: "scale",
        time: "2026-01-01T11:00:00Z",
        fieldsType: "FieldsV1",
        fieldsV1: { "f:spec": { "f:replicas": {} } },
      },
      {
        manager: "kubectl-edit",
        operation: "Update",
        apiVersion: "apps/v1",
        time: "2026-01-01T09:00:00Z",
        fieldsType: "FieldsV1",
        fieldsV1: { "f:spec": { "f:template": { "f:spec": { "f:containers": { 'k:{"name":"sidecar"}': { ".": {}, "f:image": {} } } } } } },
      },
    ],
  },
  spec: {
    replicas: 5,
    template: { spec: { containers: [{ name: "sidecar", image: "envoy:1" }, { name: "web", image: "nginx" }] } },
  },
};

describe("ownsPath", () => {
  const fieldsOf = (i: number) => (live.metadata["managedFields"] as { fieldsV1: Record<string, unknown> }[])[i]!.fieldsV1;

  it("follows f: fields", () => {
    expect(ownsPath(fieldsOf(1), "/spec/replicas", live)).toBe(true);
    expect(ownsPath(fieldsOf(0), "/spec/replicas", live)).toBe(false);
    expect(ownsPath(fieldsOf(0), "/metadata/labels/app", live)).toBe(true);
  });

  it("resolves list indexes of the live object to k: keys", () => {
    expect(ownsPath(fieldsOf(0), "/spec/template/spec/containers/1/image", live)).toBe(true);
    expect(ownsPath(fieldsOf(0), "/spec/template/spec/containers/0/image", live)).toBe(false);
    expect(ownsPath(fieldsOf(2), "/spec/template/spec/containers/0/image", live)).toBe(true);
    expect(ownsPath(fieldsOf(2), "/spec/template/spec/containers/0", live)).toBe(true);
  });

  it("treats a leaf as owning everything beneath it", () => {
    expect(ownsPath({ "f:data": {} }, "/data/key", { data: { key: "v" } })).toBe(true);
  });
});

describe("driftActor", () => {
  it("names the other manager that owns a drifted path, with its time and subresource", () => {
    expect(driftActor(live, ["/spec/replicas"], "flotilla")).toEqual({
      manager: "kubectl-scale",
      operation: "Update",
      time: "2026-01-01T11:00:00Z",
      subresource: "scale",
    });
  });

  it("ignores our own manager", () => {
    expect(driftActor(live, ["/spec/template/spec/containers/1/image"], "flotilla")).toBeUndefined();
  });

  it("picks the most recent of several owners", () => {
    expect(driftActor(live, ["/spec/template/spec/containers/0/image", "/spec/replicas"], "flotilla")?.manager).toBe("kubectl-scale");
  });
});
