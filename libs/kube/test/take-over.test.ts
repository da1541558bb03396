import type { KubeObject } from "@flotilla/model";
import { describe, expect, it } from "vitest";
import { TAKE_OVER_MANAGERS, takeOverPatch } from "../src/index.js";

const LAST = "kubectl.kubernetes.io/last-applied-configuration";

function cm(managedFields: unknown[], annotations?: Record<string, string>): KubeObject {
  return { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: "n", resourceVersion: "7", managedFields, ...(annotations ? { annotations } : {}) }, data: { a: "1" } };
}

describe("takeOverPatch", () => {
  it("returns nothing when only our manager and unrelated ones own fields", () => {
    const o = cm([
      { manager: "flotilla", operation: "Apply", fieldsV1: { "f:data": { "f:a": {} } } },
      { manager: "kube-controller-manager", operation: "Update", fieldsV1: { "f:metadata": {} } },
    ]);
    expect(takeOverPatch(o, "flotilla", TAKE_OVER_MANAGERS)).toBeUndefined();
  });

  it("moves kubectl client-side apply fields to our manager and drops the last-applied annotation", () => {
    const o = cm(
      [
        {
          manager: "kubectl-client-side-apply",
          operation: "Update",
          fieldsV1: { "f:data": { "f:a": {} }, "f:metadata": { "f:annotations": { ".": {}, [`f:${LAST}`]: {} } } },
        },
        { manager: "flotilla", operation: "Apply", fieldsV1: { "f:data": { "f:b": {} } } },
        { manager: "someone", operation: "Update", fieldsV1: { "f:data": { "f:c": {} } } },
      ],
      { [LAST]: "{}" },
    );
    const ops = takeOverPatch(o, "flotilla", TAKE_OVER_MANAGERS, new Date("2026-01-01T00:00:00.123Z"));
    expect(ops).toEqual([
      { op: "test", path: "/metadata/resourceVersion", value: "7" },
      {
        op: "replace",
        path: "/metadata/managedFields",
        value: [
          { manager: "someone", operation: "Update", fieldsV1: { "f:data": { "f:c": {} } } },
          {
            manager: "flotilla",
            operation: "Apply",
            apiVersion: "v1",
            time: "2026-01-01T00:00:00Z",
            fieldsType: "FieldsV1",
            fieldsV1: { "f:data": { "f:a": {}, "f:b": {} }, "f:metadata": { "f:annotations": { ".": {} } } },
          },
        ],
      },
      { op: "remove", path: "/metadata/annotations/kubectl.kubernetes.io~1last-applied-configuration" },
    ]);
  });

  it("takes over kubectl server-side apply but not a subresource entry", () => {
    const o = cm([
      { manager: "kubectl", operation: "Apply", fieldsV1: { "f:data": { "f:a": {} } } },
      { manager: "kubectl", operation: "Update", subresource: "status", fieldsV1: { "f:status": {} } },
    ]);
    const replace = takeOverPatch(o, "flotilla", TAKE_OVER_MANAGERS)?.[1] as { value: { manager: string; subresource?: string }[] };
    expect(replace.value.map((e) => `${e.manager}/${e.subresource ?? ""}`)).toEqual(["kubectl/status", "flotilla/"]);
  });
});
