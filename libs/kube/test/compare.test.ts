import type { KubeObject } from "@flotilla/model";
import { describe, expect, it } from "vitest";
import { MASK, changedPaths, sameLiveState } from "../src/index.js";

const ours = (fields: Record<string, unknown>) => ({ manager: "flotilla", operation: "Apply", time: "t", fieldsV1: fields });

function cm(data: Record<string, string>, meta: Record<string, unknown> = {}): KubeObject {
  return { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: "n", ...meta }, data };
}

describe("sameLiveState", () => {
  it("ignores bookkeeping and status, and managedFields times", () => {
    const live = cm({ a: "1" }, { resourceVersion: "5", uid: "u", managedFields: [{ ...ours({ "f:data": {} }), time: "old" }] });
    const dry = cm({ a: "1" }, { resourceVersion: "5", uid: "u", generation: 1, managedFields: [ours({ "f:data": {} })] });
    expect(sameLiveState(dry, { ...live, status: { x: 1 } }, "flotilla")).toBe(true);
  });

  it("sees changed content, labels and annotations", () => {
    expect(sameLiveState(cm({ a: "2" }), cm({ a: "1" }), "flotilla")).toBe(false);
    expect(sameLiveState(cm({ a: "1" }, { labels: { x: "1" } }), cm({ a: "1" }), "flotilla")).toBe(false);
    expect(sameLiveState(cm({ a: "1" }, { annotations: { x: "1" } }), cm({ a: "1" }), "flotilla")).toBe(false);
  });

  it("sees a change of the fields our manager would own", () => {
    const live = cm({ a: "1" }, { managedFields: [ours({ "f:data": { "f:a": {} } })] });
    const dry = cm({ a: "1" }, { managedFields: [ours({ "f:data": { "f:a": {}, "f:b": {} } })] });
    expect(sameLiveState(dry, live, "flotilla")).toBe(false);
  });
});

describe("changedPaths", () => {
  it("lists the differing fields, masking Secret values", () => {
    expect(changedPaths(cm({ a: "2", b: "x" }), cm({ a: "1", b: "x" }))).toEqual([{ path: "/data/a", desired: "2", live: "1" }]);
    const secret = (v: string): KubeObject => ({ apiVersion: "v1", kind: "Secret", metadata: { name: "s" }, data: { k: v } });
    expect(changedPaths(secret("bmV3"), secret("b2xk"))).toEqual([{ path: "/data/k", desired: MASK, live: MASK }]);
  });
});
