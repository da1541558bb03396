import { describe, expect, it } from "vitest";
import { splitImage, updateImage } from "../../src/transformers/images.js";
import { deployment, find, loose, names, render } from "./helpers.js";

describe("images", () => {
  it("splits references like kustomize (registry ports are not tags)", () => {
    expect(splitImage("nginx")).toEqual({ name: "nginx", tag: "", digest: "" });
    expect(splitImage("registry:5000/team/app:1.2@sha256:abc")).toEqual({
      name: "registry:5000/team/app",
      tag: "1.2",
      digest: "sha256:abc",
    });
    expect(splitImage("app@sha256:abc")).toEqual({ name: "app", tag: "", digest: "sha256:abc" });
  });

  it("sets name, tag and digest; a new tag drops the digest and vice versa", () => {
    expect(updateImage("nginx:1.0", { name: "nginx", newTag: "1.1" })).toBe("nginx:1.1");
    expect(updateImage("nginx:1.0@sha256:a", { name: "nginx", newTag: "1.1" })).toBe("nginx:1.1");
    expect(updateImage("nginx:1.0", { name: "nginx", digest: "sha256:b" })).toBe("nginx@sha256:b");
    expect(updateImage("nginx", { name: "nginx", newName: "mirror/nginx", newTag: "2", digest: "sha256:c" })).toBe(
      "mirror/nginx:2@sha256:c",
    );
    expect(updateImage("nginx-exporter:1", { name: "nginx", newTag: "9" })).toBe("nginx-exporter:1");
  });

  it("rewrites containers and initContainers anywhere in an object", () => {
    const objects = render({
      "kustomization.yaml": "resources: [r.yaml]\nimages:\n- name: nginx\n  newTag: 1.27.1\n- name: busybox\n  newName: mirror/busybox\n",
      "r.yaml": [
        deployment("web").replace("      containers:", "      initContainers:\n      - {name: init, image: busybox}\n      containers:"),
        "apiVersion: example.com/v1\nkind: Runner\nmetadata: {name: r}\nspec:\n  pod:\n    containers: [{name: c, image: 'nginx:1'}]",
      ].join("\n---\n"),
    });
    const spec = loose(find(objects, "Deployment", "web").spec).template.spec;
    expect(spec.containers[0].image).toBe("nginx:1.27.1");
    expect(spec.initContainers[0].image).toBe("mirror/busybox");
    expect(loose(find(objects, "Runner", "r").spec).pod.containers[0].image).toBe("nginx:1.27.1");
  });
});

describe("labels and annotations", () => {
  const files = (labels: string) => ({
    "kustomization.yaml": `resources: [r.yaml]\n${labels}`,
    "r.yaml": [deployment("web"), "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec:\n  ports: [{port: 80}]"].join("\n---\n"),
  });

  it("commonLabels reach metadata, selectors (created on Services) and templates", () => {
    const objects = render(files("commonLabels: {team: a}\ncommonAnnotations: {note: hi}\n"));
    const dep = loose(find(objects, "Deployment", "web"));
    expect(dep.metadata.labels).toEqual({ team: "a" });
    expect(dep.metadata.annotations).toEqual({ note: "hi" });
    expect(dep.spec.selector.matchLabels).toEqual({ app: "web", team: "a" });
    expect(dep.spec.template.metadata.labels).toEqual({ app: "web", team: "a" });
    expect(dep.spec.template.metadata.annotations).toEqual({ note: "hi" });
    expect(loose(find(objects, "Service", "web")).spec.selector).toEqual({ team: "a" });
  });

  it("labels touch metadata only, templates with includeTemplates, selectors with includeSelectors", () => {
    const objects = render(
      files("labels:\n- pairs: {m: '1'}\n- pairs: {t: '2'}\n  includeTemplates: true\n- pairs: {s: '3'}\n  includeSelectors: true\n"),
    );
    const dep = loose(find(objects, "Deployment", "web"));
    expect(dep.metadata.labels).toEqual({ m: "1", t: "2", s: "3" });
    expect(dep.spec.template.metadata.labels).toEqual({ app: "web", t: "2", s: "3" });
    expect(dep.spec.selector.matchLabels).toEqual({ app: "web", s: "3" });
    expect(loose(find(objects, "Service", "web")).spec.selector).toEqual({ s: "3" });
  });
});

describe("values kustomize shares between locations", () => {
  // kustomize writes one YAML node into every location a label transformer creates, so a later
  // in-place update (even a metadata-only `labels` entry) shows in selectors too — until a JSON
  // 6902 patch round-trips the object through JSON. Observed with kubectl kustomize v5.5.
  const base = {
    "base/kustomization.yaml": "resources: [s.yaml]\n",
    "base/s.yaml": "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  selector: {app: x}\n",
    "l0/kustomization.yaml": "resources: [../base]\nlabels:\n- pairs: {layer: l0}\n  includeSelectors: true\n",
  };
  const selector = (files: Record<string, string>, dir: string) => loose(render(files, dir)[0]).spec.selector;

  it("updates a selector value a base's label wrote when an overlay relabels metadata", () => {
    expect(selector({ ...base, "l1/kustomization.yaml": "resources: [../l0]\nlabels:\n- pairs: {layer: l1}\n" }, "l1")).toEqual({
      app: "x",
      layer: "l1",
    });
    // A key the user wrote into the selector is a separate value: untouched.
    expect(selector({ ...base, "l1/kustomization.yaml": "resources: [../l0]\nlabels:\n- pairs: {app: other}\n" }, "l1")).toEqual({
      app: "x",
      layer: "l0",
    });
  });

  it("stops sharing after a JSON 6902 patch", () => {
    const files = {
      ...base,
      "j1/kustomization.yaml":
        "resources: [../l0]\npatches:\n- target: {kind: Service}\n  patch: |-\n    - {op: add, path: /spec/type, value: NodePort}\n",
      "j2/kustomization.yaml": "resources: [../j1]\nlabels:\n- pairs: {layer: l2}\n",
    };
    expect(selector(files, "j2")).toEqual({ app: "x", layer: "l0" });
  });
});

describe("namespace, prefix and suffix, replicas", () => {
  it("sets namespaces on namespaced objects only and renames the Namespace object", () => {
    const objects = render({
      "kustomization.yaml": "namespace: team\nnamePrefix: p-\nresources: [r.yaml]\n",
      "r.yaml": [
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: old}",
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: reader}",
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: widgets.example.com}",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: other}",
      ].join("\n---\n"),
    });
    expect(names(objects)).toEqual([
      "Namespace/team",
      "CustomResourceDefinition/widgets.example.com",
      "ClusterRole/p-reader",
      "ConfigMap/team/p-c",
    ]);
  });

  it("sets replicas by any name the workload has had", () => {
    const objects = render({
      "base/kustomization.yaml": "namePrefix: b-\nresources: [d.yaml]\n",
      "base/d.yaml": deployment("web"),
      "kustomization.yaml": "resources: [base]\nreplicas:\n- name: web\n  count: 3\n",
    });
    expect(loose(find(objects, "Deployment", "b-web").spec).replicas).toBe(3);
  });
});

describe("patches", () => {
  const base = {
    "base/kustomization.yaml": "namePrefix: b-\nresources: [d.yaml]\n",
    "base/d.yaml": deployment("web"),
  };

  it("applies a target-less strategic merge patch to the object it names, by original name", () => {
    const objects = render({
      ...base,
      "kustomization.yaml":
        "resources: [base]\npatches:\n- path: patch.yaml\npatchesStrategicMerge:\n- |-\n  apiVersion: apps/v1\n  kind: Deployment\n  metadata: {name: b-web}\n  spec: {replicas: 5}\n",
      "patch.yaml":
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n      containers:\n      - name: main\n        env: [{name: A, value: '1'}]\n",
    });
    const dep = loose(find(objects, "Deployment", "b-web"));
    expect(dep.spec.replicas).toBe(5);
    expect(dep.spec.template.spec.containers[0]).toEqual({ name: "main", image: "nginx:1.25", env: [{ name: "A", value: "1" }] });
  });

  it("applies JSON 6902 patches (YAML or JSON) to every selected object", () => {
    const objects = render({
      "kustomization.yaml": [
        "resources: [r.yaml]",
        "patches:",
        "- target: {kind: Deployment, labelSelector: tier=web}",
        "  patch: '[{\"op\": \"replace\", \"path\": \"/spec/replicas\", \"value\": 2}]'",
        "patchesJson6902:",
        "- target: {group: apps, version: v1, kind: Deployment, name: a}",
        "  path: ops.yaml",
        "",
      ].join("\n"),
      "ops.yaml": "- op: add\n  path: /metadata/annotations/patched\n  value: 'yes'\n",
      "r.yaml": ["a", "b", "c"]
        .map((n) => deployment(n).replace("metadata:\n  name:", `metadata:\n  labels: {tier: ${n === "c" ? "db" : "web"}}\n  name:`).replace("spec:\n", "spec:\n  replicas: 1\n"))
        .join("\n---\n"),
    });
    expect(objects.map((o) => loose(o.spec).replicas)).toEqual([2, 2, 1]);
    expect(find(objects, "Deployment", "a").metadata.annotations).toEqual({ patched: "yes" });
    expect(find(objects, "Deployment", "b").metadata.annotations).toBeUndefined();
  });

  it("deletes an object with $patch: delete and renames with allowNameChange", () => {
    const objects = render({
      "kustomization.yaml": [
        "resources: [r.yaml]",
        "patches:",
        "- patch: |-",
        "    $patch: delete",
        "    apiVersion: v1",
        "    kind: ConfigMap",
        "    metadata: {name: gone}",
        "- options: {allowNameChange: true}",
        "  target: {kind: ConfigMap, name: keep}",
        "  patch: |-",
        "    apiVersion: v1",
        "    kind: ConfigMap",
        "    metadata: {name: renamed}",
        "",
      ].join("\n"),
      "r.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: gone}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: keep}\n",
    });
    expect(names(objects)).toEqual(["ConfigMap/renamed"]);
  });
});
