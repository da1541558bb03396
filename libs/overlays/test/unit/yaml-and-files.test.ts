import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { fsFileView, memoryFileView, renderKustomization, toYamlStream } from "../../src/index.js";

describe("toYamlStream", () => {
  it("prints documents like kustomize build: sorted keys, compact lists, quoted ambiguous strings", () => {
    const text = toYamlStream([
      { kind: "ConfigMap", apiVersion: "v1", metadata: { name: "a" }, data: { on: "yes", n: "1", mode: "0644", x: "plain", cron: "* * * * *", empty: "" } },
      { apiVersion: "v1", kind: "Pod", metadata: { name: "p" }, spec: { containers: [{ name: "c", image: "i" }] } },
    ]);
    expect(text).toBe(
      [
        "apiVersion: v1",
        "data:",
        "  cron: '* * * * *'",
        '  empty: ""',
        '  mode: "0644"',
        '  "n": "1"',
        '  "on": "yes"',
        "  x: plain",
        "kind: ConfigMap",
        "metadata:",
        "  name: a",
        "---",
        "apiVersion: v1",
        "kind: Pod",
        "metadata:",
        "  name: p",
        "spec:",
        "  containers:",
        "  - image: i",
        "    name: c",
        "",
      ].join("\n"),
    );
  });
});

describe("file views", () => {
  const root = mkdtempSync(join(tmpdir(), "overlays-fsview-"));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it("fsFileView reads files and lists directories relative to the root", () => {
    mkdirSync(join(root, "app"));
    writeFileSync(join(root, "app", "kustomization.yaml"), "resources: [cm.yaml]\n");
    writeFileSync(join(root, "app", "cm.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n");
    const view = fsFileView(root);
    expect(view.listDir("app")).toEqual(["cm.yaml", "kustomization.yaml"]);
    expect(view.listDir("app/cm.yaml")).toBeUndefined();
    expect(view.readFile("app")).toBeUndefined();
    expect(view.readFile("missing.yaml")).toBeUndefined();
    const r = renderKustomization(view, "app");
    expect(r.ok && r.objects.map((o) => o.metadata.name)).toEqual(["c"]);
  });

  it("memoryFileView implies directories from file paths", () => {
    const view = memoryFileView({ "a/b/c.yaml": "x", "a/d.yaml": "y" });
    expect(view.listDir("")).toEqual(["a"]);
    expect(view.listDir("a")).toEqual(["b", "d.yaml"]);
    expect(new TextDecoder().decode(view.readFile("a/b/c.yaml"))).toBe("x");
    expect(view.readFile("a/b")).toBeUndefined();
  });
});
