// `openapi:` custom schemas: what the conformance cases (42b-42g, 99h-99j) cannot show because
// kustomize panics or crashes instead of failing with a message.
import { ErrorCode } from "@flotilla/model";
import { describe, expect, it } from "vitest";
import { find, render, renderError } from "./helpers.js";

const widget = "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec:\n  items: [{name: a, n: 1}]\n";
const patch = "patches:\n- patch: '{apiVersion: example.com/v1, kind: Widget, metadata: {name: w}, spec: {items: [{name: b}]}}'\n";

describe("openapi schemas", () => {
  it("reads a schema file only when a strategic merge patch needs it (as kustomize)", () => {
    const objects = render({ "kustomization.yaml": "resources: [w.yaml]\nopenapi: {path: s.json}\n", "w.yaml": widget, "s.json": "not json {" });
    expect(find(objects, "Widget", "w").spec).toEqual({ items: [{ name: "a", n: 1 }] });
  });

  it("names the schema file and the openapi field when the schema a patch needs is not valid (kustomize panics)", () => {
    const err = renderError({
      "kustomization.yaml": `resources: [w.yaml]\nopenapi: {path: s.json}\n${patch}`,
      "w.yaml": widget,
      "s.json": "- a list\n",
    });
    expect(err.code).toBe(ErrorCode.RenderFailed);
    expect(err.file).toBe("kustomization.yaml");
    expect(err.field).toBe("openapi.path");
    expect(err.message).toMatch(/invalid openapi schema file s\.json/);
  });

  it("follows $ref cycles and merges a self-referencing definition's lists by key", () => {
    const schema = JSON.stringify({
      definitions: {
        W: { "x-kubernetes-group-version-kind": [{ group: "example.com", version: "v1", kind: "Widget" }], properties: { spec: { $ref: "#/definitions/Node" } } },
        Node: {
          properties: {
            items: { type: "array", "x-kubernetes-patch-strategy": "merge", "x-kubernetes-patch-merge-key": "name", items: { $ref: "#/definitions/Node" } },
          },
        },
      },
    });
    const objects = render({ "kustomization.yaml": `resources: [w.yaml]\nopenapi: {path: s.json}\n${patch}`, "w.yaml": widget, "s.json": schema });
    expect(find(objects, "Widget", "w").spec).toEqual({ items: [{ name: "b" }, { name: "a", n: 1 }] });
  });

  it("refuses an openapi value that is not a string, naming the field", () => {
    const err = renderError({ "kustomization.yaml": "resources: [w.yaml]\nopenapi: {path: 3}\n", "w.yaml": widget });
    expect(err.field).toBe("openapi.path");
  });
});
