import { describe, expect, it } from "vitest";
import { memoryFileView, OverlayError, renderKustomization } from "../../src/index.js";

const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 1
  template:
    spec:
      containers: [{name: web, image: web:1}]
`;

describe("parsed files shared between renders", () => {
  it("a build that transforms a base's objects leaves the next render of that base unchanged", () => {
    // memoryFileView hands out the same bytes object for a path every time, as the env repo view does.
    const view = memoryFileView({
      "base/kustomization.yaml": "resources: [deploy.yaml]\n",
      "base/deploy.yaml": deployment,
      "prod/kustomization.yaml": [
        "resources: [../base]",
        "namePrefix: prod-",
        "namespace: prod",
        "commonLabels: {env: prod}",
        "patches:",
        "  - patch: |-",
        "      - op: replace",
        "        path: /spec/replicas",
        "        value: 3",
        "    target: {kind: Deployment}",
        "",
      ].join("\n"),
    });
    const first = renderKustomization(view, "base");
    const prod = renderKustomization(view, "prod");
    const prodAgain = renderKustomization(view, "prod");
    const again = renderKustomization(view, "base");
    if (!first.ok || !prod.ok || !again.ok || !prodAgain.ok) throw new Error("render failed");
    expect(prod.objects[0]?.metadata).toMatchObject({ name: "prod-web", namespace: "prod", labels: { app: "web", env: "prod" } });
    expect((prod.objects[0] as unknown as { spec: { replicas: number } }).spec.replicas).toBe(3);
    expect(prodAgain.objects).toEqual(prod.objects);
    expect(again.objects).toEqual(first.objects);
    expect(again.objects[0]?.metadata).toEqual({ name: "web", labels: { app: "web" } });
    // Changing the objects a render returned does not reach the next render either.
    again.objects[0]!.metadata.name = "changed";
    const third = renderKustomization(view, "base");
    expect(third.ok && third.objects[0]?.metadata.name).toBe("web");
  });

  it("the same broken content in two files: each error names its own file and line", () => {
    const broken = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata: [unclosed\n";
    const view = memoryFileView({
      "a/kustomization.yaml": "resources: [cm.yaml]\n",
      "a/cm.yaml": broken,
      "b/kustomization.yaml": "resources: [cm.yaml]\n",
      "b/cm.yaml": broken,
    });
    for (const dir of ["a", "b", "a"]) {
      const r = renderKustomization(view, dir);
      expect(r.ok).toBe(false);
      if (r.ok) continue;
      expect(r.error).toBeInstanceOf(OverlayError);
      expect(r.error.file).toBe(`${dir}/cm.yaml`);
      expect(r.error.line).toBeGreaterThan(0);
      expect(r.error.message).toContain(`listed in ${dir}/kustomization.yaml resources[0]`);
    }
  });
});
