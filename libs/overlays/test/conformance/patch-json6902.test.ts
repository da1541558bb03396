// JSON 6902 patches over RFC 6901 pointers.
import { describe, expect, it } from "vitest";
import { applyJson6902, parsePointer, PatchError, type KubeObject } from "../../src/patch/index.js";

const cm = (): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name: "cm", annotations: { "a/b": "1", "t~k": "2" } },
  data: { list: [1, 2, 3] } as unknown as string,
});

describe("parsePointer", () => {
  it("unescapes ~1 and ~0 in that order", () => {
    expect(parsePointer("/a~1b/c~0d/~01")).toEqual(["a/b", "c~d", "~1"]);
    expect(parsePointer("")).toEqual([]);
  });
});

describe("applyJson6902", () => {
  it("applies add, remove, replace, move, copy and test in order", () => {
    const out = applyJson6902(cm(), [
      { op: "test", path: "/metadata/annotations/a~1b", value: "1" },
      { op: "add", path: "/data/list/-", value: 4 },
      { op: "add", path: "/data/list/0", value: 0 },
      { op: "remove", path: "/data/list/2" },
      { op: "replace", path: "/metadata/annotations/t~0k", value: "3" },
      { op: "copy", from: "/data/list", path: "/data/copy" },
      { op: "move", from: "/metadata/annotations/a~1b", path: "/metadata/labels" },
    ]);
    expect(out["data"]).toEqual({ list: [0, 1, 3, 4], copy: [0, 1, 3, 4] });
    expect(out.metadata).toEqual({ name: "cm", annotations: { "t~k": "3" }, labels: "1" });
  });

  it("does not modify the target", () => {
    const target = cm();
    applyJson6902(target, [{ op: "remove", path: "/metadata/annotations" }]);
    expect(target.metadata.annotations).toBeDefined();
  });

  it.each([
    [{ op: "replace", path: "/data/missing", value: 1 }, /operation 0 \(replace \/data\/missing\)/],
    [{ op: "remove", path: "/nope/deeper" }, /remove \/nope\/deeper/],
    [{ op: "add", path: "/data/list/9", value: 1 }, /out of bounds/],
    [{ op: "test", path: "/metadata/name", value: "other" }, /test \/metadata\/name.*not "other"/],
    [{ op: "move", from: "/missing", path: "/x" }, /move \/x from \/missing/],
    [{ op: "frobnicate", path: "/x" }, /unknown operation/],
  ])("fails with a PatchError naming the op and path: %j", (op, message) => {
    let err: unknown;
    try {
      applyJson6902(cm(), [op]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(PatchError);
    expect((err as Error).message).toMatch(message);
    expect((err as PatchError).path).toBe(op.path);
  });

  it("behaves like kustomize where the RFC leaves room", () => {
    const bare: KubeObject = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "bare" } };
    // kustomize's objects always carry internal annotations, so adding one never lacks a parent.
    expect(applyJson6902(bare, [{ op: "add", path: "/metadata/annotations/a", value: "1" }]).metadata.annotations).toEqual({ a: "1" });
    expect(applyJson6902(bare, [{ op: "test", path: "/metadata/labels", value: null }])).toEqual(bare);
    expect("annotations" in applyJson6902(bare, [{ op: "test", path: "/metadata/name", value: "bare" }]).metadata).toBe(false);
    expect(() => applyJson6902(bare, [{ op: "add", path: "/metadata/labels/a", value: "1" }])).toThrow(/no \/metadata\/labels/);
    expect(() => applyJson6902(bare, [{ op: "add", path: "", value: {} }])).toThrow(/root/);
    expect(applyJson6902(bare, [{ op: "replace", path: "", value: { ...bare, data: { x: "1" } } }])).toEqual({ ...bare, data: { x: "1" } });
  });

  it("rejects operations without their required members", () => {
    expect(() => applyJson6902(cm(), [{ op: "add", path: "/x" }])).toThrow(/has no "value"/);
    expect(() => applyJson6902(cm(), [{ op: "copy", path: "/x" }])).toThrow(/has no "from"/);
    expect(() => applyJson6902(cm(), [{ path: "/x" }])).toThrow(/has no "op"/);
  });
});
