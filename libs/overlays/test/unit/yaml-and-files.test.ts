import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
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

  it("folds long values past column 80 where kubectl kustomize (go-yaml) does; keys and block scalars stay", () => {
    const long = "this is a very long description that goes on and on and on past the eighty column limit for sure yes";
    const text = toYamlStream([
      {
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "app", annotations: { plain: long, single: `it's ${long.slice(8)}`, [long.replace(/ /g, "-")]: "k" } },
        data: {
          conf: "worker_processes 1;\nevents {\n  worker_connections 1024;\n}\n  trailing spaces   \n",
          spaced: `x  ${"y".repeat(80)}  two spaces  then \nend`,
          block: `line one\n${long}`,
        },
        list: [long, { a: long }],
      } as never,
    ]);
    // Expected bytes as printed by `kubectl kustomize` (kustomize v5.5) for the same object.
    expect(text).toBe(
      [
        "apiVersion: v1",
        "data:",
        "  block: |-",
        "    line one",
        `    ${long}`,
        '  conf: "worker_processes 1;\\nevents {\\n  worker_connections 1024;\\n}\\n  trailing',
        '    spaces   \\n"',
        `  spaced: "x  ${"y".repeat(80)}`,
        '    \\ two spaces  then \\nend"',
        "kind: ConfigMap",
        "list:",
        "- this is a very long description that goes on and on and on past the eighty column",
        "  limit for sure yes",
        "- a: this is a very long description that goes on and on and on past the eighty column",
        "    limit for sure yes",
        "metadata:",
        "  annotations:",
        "    plain: this is a very long description that goes on and on and on past the eighty",
        "      column limit for sure yes",
        "    single: it's a very long description that goes on and on and on past the eighty",
        "      column limit for sure yes",
        `    ${long.replace(/ /g, "-")}: k`,
        "  name: app",
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

  it("fsFileView refuses symbolic links that lead out of the repository", () => {
    const outside = mkdtempSync(join(tmpdir(), "overlays-outside-"));
    try {
      writeFileSync(join(outside, "secret.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: s}\n");
      mkdirSync(join(root, "leak"));
      writeFileSync(join(root, "leak", "kustomization.yaml"), "resources: [secret.yaml]\n");
      symlinkSync(join(outside, "secret.yaml"), join(root, "leak", "secret.yaml"));
      const r = renderKustomization(fsFileView(root), "leak");
      expect(r.ok).toBe(false);
      if (!r.ok) {
        expect(r.error.code).toBe("FLOTILLA_ERR_PATH_ESCAPES_REPO");
        expect(r.error.message).toMatch(/leak\/secret\.yaml is a symbolic link that leads out of the repository/);
      }
    } finally {
      rmSync(outside, { recursive: true, force: true });
    }
  });

  it("memoryFileView implies directories from file paths", () => {
    const view = memoryFileView({ "a/b/c.yaml": "x", "a/d.yaml": "y" });
    expect(view.listDir("")).toEqual(["a"]);
    expect(view.listDir("a")).toEqual(["b", "d.yaml"]);
    expect(new TextDecoder().decode(view.readFile("a/b/c.yaml"))).toBe("x");
    expect(view.readFile("a/b")).toBeUndefined();
  });
});
