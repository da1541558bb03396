import { describe, expect, it } from "vitest";
import { splitReplacementPath } from "../../src/transformers/replacements.js";
import { find, loose, render, renderError } from "./helpers.js";

// Expectations checked against `kubectl kustomize` (kustomize v5.5) on the same trees.
const objects = `apiVersion: v1
kind: ConfigMap
metadata: {name: cfg}
data: {host: db.example, replicas: "4", image: "ignored:2.0", flag: "true"}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  template:
    spec:
      containers:
      - name: main
        image: nginx:1.0
        args: ["--host=old"]
      - name: side
        image: busybox:1.0
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: wx}
spec:
  template:
    spec:
      containers:
      - {name: main, image: y}
`;

const build = (replacements: string) => render({ "kustomization.yaml": `resources: [r.yaml]\nreplacements:\n${replacements}`, "r.yaml": objects });

describe("replacements", () => {
  it("splits field paths on dots outside brackets", () => {
    expect(splitReplacementPath("spec.containers.[name=a.b].env.[k8s.io/x]")).toEqual(["spec", "containers", "[name=a.b]", "env", "[k8s.io/x]"]);
  });

  it("copies a source field into targets, keeping the type of an existing scalar", () => {
    const out = build(`- source: {kind: ConfigMap, name: cfg, fieldPath: data.replicas}
  targets:
  - select: {kind: Deployment, name: web}
    fieldPaths: [spec.replicas]
`);
    expect(loose(find(out, "Deployment", "web")).spec.replicas).toBe(4);
    expect(loose(find(out, "Deployment", "wx")).spec.replicas).toBeUndefined();
  });

  it("creates missing fields and list elements, typed like plain YAML", () => {
    const out = build(`- source:
    kind: ConfigMap
    name: cfg
    fieldPath: data.flag
  targets:
  - select:
      name: web
    fieldPaths:
    - metadata.labels.flag
    - spec.template.spec.containers.[name=main].env.[name=FLAG].value
    options:
      create: true
`);
    const web = loose(find(out, "Deployment", "web"));
    expect(web.metadata.labels).toEqual({ flag: true });
    expect(web.spec.template.spec.containers[0].env).toEqual([{ name: "FLAG", value: true }]);
  });

  it("splices with delimiter/index and selects exactly (no regular expressions), honouring reject", () => {
    const out = build(`- source:
    kind: ConfigMap
    name: cfg
    fieldPath: data.image
    options: {delimiter: ':', index: 1}
  targets:
  - select: {kind: Deployment}
    reject:
    - name: wx
    fieldPaths:
    - spec.template.spec.containers.*.image
    options: {delimiter: ':', index: 1}
  - select: {name: 'w.*'}
    fieldPaths: [metadata.name]
`);
    const web = loose(find(out, "Deployment", "web"));
    expect(web.spec.template.spec.containers.map((c: { image: string }) => c.image)).toEqual(["nginx:2.0", "busybox:2.0"]);
    expect(loose(find(out, "Deployment", "wx")).spec.template.spec.containers[0].image).toBe("y");
  });

  it("reads replacements from a file and reports missing sources and target fields", () => {
    const files = {
      "kustomization.yaml": "resources: [r.yaml]\nreplacements:\n- path: repl.yaml\n",
      "r.yaml": objects,
      "repl.yaml": "- source: {kind: ConfigMap, name: cfg, fieldPath: data.host}\n  targets:\n  - select: {kind: Deployment}\n    fieldPaths: [spec.template.spec.containers.0.args.0]\n    options: {delimiter: '=', index: 1}\n",
    };
    expect(renderError(files).message).toMatch(/unable to find field "spec.template.spec.containers.0.args.0" in replacement target Deployment wx/);
    files["repl.yaml"] = files["repl.yaml"].replace("kind: Deployment}", "kind: Deployment, name: web}");
    expect(loose(find(render(files), "Deployment", "web")).spec.template.spec.containers[0].args).toEqual(["--host=db.example"]);
    expect(renderError({ ...files, "repl.yaml": "- source: {kind: Secret}\n  targets: []\n" }).message).toMatch(/selects nothing/);
  });
});
