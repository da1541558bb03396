import { describe, expect, it } from "vitest";
import { memoryFileView, renderKustomization, type FileView } from "../../src/index.js";
import { contentHash } from "../../src/hash.js";
import { find, names, render, renderError } from "./helpers.js";

// Expected names below were produced by `kubectl kustomize` (kustomize v5.5) on the same trees.
describe("configMapGenerator and secretGenerator", () => {
  it("appends kustomize's content hash (which ignores the name and escapes HTML like Go)", () => {
    expect(names(render({ "kustomization.yaml": "configMapGenerator:\n- name: cfg\n  literals: [A=1]\n" }))).toEqual([
      "ConfigMap/cfg-89g4tffbfk",
    ]);
    const objects = render({
      "kustomization.yaml":
        "namePrefix: p-\nnamespace: ns1\nconfigMapGenerator:\n- name: cfg\n  literals: [A=1, 'B=<x>&']\nsecretGenerator:\n- name: sec\n  literals: [p=q]\n",
    });
    expect(names(objects)).toEqual(["ConfigMap/ns1/p-cfg-5gch97b56c", "Secret/ns1/p-sec-hb2dth72f6"]);
    expect(find(objects, "Secret", "p-sec-hb2dth72f6")).toMatchObject({ data: { p: "cQ==" }, type: "Opaque" });
  });

  it("hashes content only: the same data under another name gets the same suffix", () => {
    const a = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a" }, data: { k: "v" } };
    const b = { ...a, metadata: { name: "b" } };
    expect(contentHash(a)).toBe(contentHash(b));
    expect(contentHash({ ...a, data: { k: "w" } })).not.toBe(contentHash(a));
  });

  it("reads files (key defaults to the file name), env files and wraps long Secret values", () => {
    const objects = render({
      "kustomization.yaml": [
        "configMapGenerator:",
        "- name: files",
        "  files: [greeting.txt, renamed=greeting.txt]",
        "- name: env",
        "  envs: [app.env]",
        "secretGenerator:",
        "- name: longsecret",
        "  literals:",
        "  - k=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "  - q=\"quoted value\"",
        "",
      ].join("\n"),
      "greeting.txt": "hello\n",
      "app.env": "A=1\n# comment\n\n  B = two\nC=x=y\n",
    });
    expect(find(objects, "ConfigMap", "env-t6294d9fmb").data).toEqual({ A: "1", "B ": " two", C: "x=y" });
    expect(find(objects, "ConfigMap", "files-4c42664t62").data).toEqual({ "greeting.txt": "hello\n", renamed: "hello\n" });
    expect(find(objects, "Secret", "longsecret-9846c79t56").data).toEqual({
      k: "YWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYWFhYQ\n==\n",
      q: "cXVvdGVkIHZhbHVl",
    });
  });

  it("applies generatorOptions and per-generator options", () => {
    const objects = render({
      "kustomization.yaml": [
        "generatorOptions:",
        "  labels: {g: global}",
        "  annotations: {a: b}",
        "configMapGenerator:",
        "- name: plain",
        "  literals: [X=1]",
        "  options:",
        "    disableNameSuffixHash: true",
        "    immutable: true",
        "    labels: {g: local, l: x}",
        "",
      ].join("\n"),
    });
    expect(objects).toEqual([
      {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "plain", labels: { g: "global", l: "x" }, annotations: { a: "b" } },
        data: { X: "1" },
        immutable: true,
      },
    ]);
  });

  it("merges into and replaces a base's generated object, keeping the base's name history", () => {
    const base = {
      "base/kustomization.yaml":
        "namespace: base-ns\nnamePrefix: b-\nconfigMapGenerator:\n- name: cfg\n  literals: [A=1, B=2]\n  options: {labels: {gen: 'yes'}}\n",
    };
    const merged = render(
      {
        ...base,
        "o/kustomization.yaml":
          "resources: [../base]\nnamePrefix: o-\nconfigMapGenerator:\n- name: cfg\n  behavior: merge\n  namespace: base-ns\n  literals: [B=3, C=4]\n",
      },
      "o",
    );
    expect(merged).toHaveLength(1);
    expect(merged[0]?.metadata).toMatchObject({ name: expect.stringMatching(/^o-b-cfg-/), namespace: "base-ns", labels: { gen: "yes" } });
    expect(merged[0]?.data).toEqual({ A: "1", B: "3", C: "4" });

    const replaced = render(
      {
        ...base,
        "o/kustomization.yaml":
          "resources: [../base]\nconfigMapGenerator:\n- name: cfg\n  behavior: replace\n  namespace: base-ns\n  literals: [Z=9]\n",
      },
      "o",
    );
    expect(replaced[0]?.data).toEqual({ Z: "9" });
  });

  it("refuses a repeated key, a merge with nothing to merge into, and a second create", () => {
    expect(renderError({ "kustomization.yaml": "configMapGenerator:\n- name: c\n  literals: [A=1, A=2]\n" }).message).toMatch(
      /kustomization\.yaml.*repeats the key `A`/,
    );
    expect(
      renderError({ "kustomization.yaml": "configMapGenerator:\n- name: c\n  behavior: merge\n  literals: [A=1]\n" }).message,
    ).toMatch(/does not exist; cannot merge/);
    expect(
      renderError({
        "kustomization.yaml": "resources: [cm.yaml]\nconfigMapGenerator:\n- name: c\n  literals: [A=1]\n",
        "cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
      }).message,
    ).toMatch(/already exists; set behavior: merge or replace/);
  });

  it("never reads the process environment for bare keys in env files", () => {
    const err = renderError({ "kustomization.yaml": "configMapGenerator:\n- name: c\n  envs: [e.env]\n", "e.env": "HOME\n" });
    expect(err.message).toMatch(/e\.env:1: "HOME" has no value/);
  });

  it("puts non-UTF-8 files into binaryData, base64 wrapped like kustomize", () => {
    const bytes = new Uint8Array(128).map((_, i) => 128 + i);
    const view = memoryFileView({ "kustomization.yaml": "configMapGenerator:\n- name: c\n  files: [bin.dat]\n" });
    const withBinary: FileView = {
      readFile: (p) => (p === "bin.dat" ? bytes : view.readFile(p)),
      listDir: (p) => (p === "" ? [...(view.listDir("") ?? []), "bin.dat"] : view.listDir(p)),
    };
    const r = renderKustomization(withBinary, "");
    if (!r.ok) throw r.error;
    expect(r.objects[0]?.metadata.name).toBe("c-gb5f68md5f");
    const text = (r.objects[0]?.binaryData as Record<string, string>)["bin.dat"] ?? "";
    expect(text.split("\n").map((l) => l.length)).toEqual([70, 70, 32, 0]);
    expect(Buffer.from(text.replace(/\n/g, ""), "base64")).toEqual(Buffer.from(bytes));
  });
});
