import { describe, expect, it } from "vitest";
import { memoryFileView, renderKustomization } from "../../src/index.js";
import { deployment, find, names, render } from "./helpers.js";

describe("resources", () => {
  it("reads files, multi-document files and List kinds", () => {
    const objects = render({
      "kustomization.yaml": "resources:\n- a.yaml\n- list.yaml\n",
      "a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: one}\n---\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: two}\n",
      "list.yaml":
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Secret\n  metadata: {name: s}\n- apiVersion: v1\n  kind: ServiceAccount\n  metadata: {name: sa}\n",
    });
    expect(names(objects)).toEqual(["ServiceAccount/sa", "ConfigMap/one", "ConfigMap/two", "Secret/s"]);
  });

  it("builds nested bases and records every path it read", () => {
    const files = {
      "apps/web/base/kustomization.yaml": "resources: [deploy.yaml]\n",
      "apps/web/base/deploy.yaml": deployment("web"),
      "apps/web/envs/prod/kustomization.yaml": "resources: [../../base, extra.yaml]\nnamespace: prod\n",
      "apps/web/envs/prod/extra.yaml": "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n",
      "unrelated.yaml": "x: 1\n",
    };
    const r = renderKustomization(memoryFileView(files), "apps/web/envs/prod");
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(names(r.objects)).toEqual(["Service/prod/web", "Deployment/prod/web"]);
    expect(r.readPaths).toEqual([
      "apps/web/base",
      "apps/web/base/deploy.yaml",
      "apps/web/base/kustomization.yaml",
      "apps/web/envs/prod",
      "apps/web/envs/prod/extra.yaml",
      "apps/web/envs/prod/kustomization.yaml",
    ]);
  });

  it("orders output like kustomize's legacy sort, and keeps input order with sortOptions fifo", () => {
    const files = {
      "kustomization.yaml": "resources: [all.yaml]\n",
      "all.yaml": [
        "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\nmetadata: {name: vwc}",
        deployment("d"),
        "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, namespace: e}",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: d, namespace: dee}",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: default}",
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: ns}",
      ].join("\n---\n"),
    };
    // Same-kind objects sort by "namespace|name" byte-wise, unset namespace last ("~X").
    expect(names(render(files))).toEqual([
      "Namespace/ns",
      "ConfigMap/dee/d",
      "ConfigMap/default/a",
      "ConfigMap/e/b",
      "ConfigMap/c",
      "Deployment/d",
      "Widget/w",
      "ValidatingWebhookConfiguration/vwc",
    ]);
    files["kustomization.yaml"] += "sortOptions:\n  order: fifo\n";
    expect(names(render(files))[0]).toBe("ValidatingWebhookConfiguration/vwc");
  });

  it("reads scalars like kustomize: 0644 is 420, yes/on stay strings, dates become RFC 3339", () => {
    const objects = render({
      "kustomization.yaml": "resources: [cm.yaml]\n",
      "cm.yaml":
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: p}\ndata:\n  mode: 0644\n  hex: 0x1F\n  big: 1_000\n  on: yes\n  y: n\n  t: true\n  nothing: ~\n  day: 2024-01-01\n  f: 1.5e3\n",
    });
    expect(find(objects, "ConfigMap", "p").data).toEqual({
      mode: 420,
      hex: 31,
      big: 1000,
      on: "yes",
      y: "n",
      t: true,
      nothing: null,
      day: "2024-01-01T00:00:00Z",
      f: 1500,
    });
  });

  it("applies components to what the including kustomization has accumulated", () => {
    const objects = render({
      "app/kustomization.yaml": "resources: [main.yaml]\ncomponents: [../comp]\nnamespace: app\n",
      "app/main.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: main}\n",
      "comp/kustomization.yaml":
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nnamePrefix: c-\npatches:\n- patch: |-\n    apiVersion: v1\n    kind: ConfigMap\n    metadata: {name: main}\n    data: {fromComponent: 'true'}\n",
    }, "app");
    expect(objects).toEqual([
      { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c-main", namespace: "app" }, data: { fromComponent: "true" } },
    ]);
  });

  it("runs a kustomization's generators before its components (kustomize >= 5.1)", () => {
    const objects = render({
      "kustomization.yaml": "components: [comp]\nconfigMapGenerator:\n- name: settings\n  literals: [A=1]\n",
      "comp/kustomization.yaml":
        "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nnamePrefix: c-\nconfigMapGenerator:\n- name: settings\n  behavior: merge\n  literals: [B=2]\n",
    });
    expect(objects).toHaveLength(1);
    expect(objects[0]?.metadata.name).toMatch(/^c-settings-[a-z0-9]{10}$/);
    expect(objects[0]?.data).toEqual({ A: "1", B: "2" });
  });

  it("gives every YAML alias its own copy and honours merge keys, as kustomize does", () => {
    const objects = render({
      "kustomization.yaml": "resources: [r.yaml]\nlabels:\n- pairs: {x: y2}\n  includeTemplates: true\n",
      "r.yaml":
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  selector: {matchLabels: &m {app: a}}\n  template:\n    metadata: {labels: *m}\n  extra:\n    <<: {k1: v1, k2: v2}\n    k2: override\n",
    });
    const spec = objects[0]?.spec as Record<string, Record<string, unknown>>;
    expect(spec.selector).toEqual({ matchLabels: { app: "a" } });
    expect(spec.template).toEqual({ metadata: { labels: { app: "a", x: "y2" } } });
    expect(spec.extra).toEqual({ k1: "v1", k2: "override" });
  });
});
