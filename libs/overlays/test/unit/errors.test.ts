import { ErrorCode } from "@flotilla/model";
import { describe, expect, it } from "vitest";
import { memoryFileView, OverlayError, renderKustomization } from "../../src/index.js";
import { renderError } from "./helpers.js";

const cm = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}}\n`;

describe("refusals", () => {
  it("refuses paths that leave the repository", () => {
    const err = renderError({ "app/kustomization.yaml": "resources: [../../elsewhere]\n" }, "app");
    expect(err).toBeInstanceOf(OverlayError);
    expect(err.code).toBe(ErrorCode.PathEscapesRepo);
    expect(err.file).toBe("app/kustomization.yaml");
    expect(err.field).toBe("resources[0]");
    expect(renderError({ "kustomization.yaml": "resources: [/etc/passwd]\n" }).code).toBe(ErrorCode.PathEscapesRepo);
    expect(renderError({ "kustomization.yaml": "", "x/kustomization.yaml": "" }, "../x").code).toBe(ErrorCode.PathEscapesRepo);
  });

  it("refuses files outside the kustomization directory, like kustomize's load restrictor", () => {
    const err = renderError({ "shared/cm.yaml": cm("a"), "app/kustomization.yaml": "resources: [../shared/cm.yaml]\n" }, "app");
    expect(err.message).toMatch(/app\/kustomization\.yaml.*not in or below the kustomization directory "app"/);
  });

  it("refuses remote bases with a clear message", () => {
    const err = renderError({ "kustomization.yaml": "resources:\n- https://github.com/org/repo//base?ref=v1\n" });
    expect(err.code).toBe(ErrorCode.KustomizationUnsupported);
    expect(err.message).toMatch(/remote resource .* is not supported/);
    expect(renderError({ "kustomization.yaml": "resources: [github.com/org/repo/base]\n" }).code).toBe(
      ErrorCode.KustomizationUnsupported,
    );
  });

  it("detects cycles", () => {
    const err = renderError({ "a/kustomization.yaml": "resources: [../b]\n", "b/kustomization.yaml": "resources: [../a]\n" }, "a");
    expect(err.message).toMatch(/cycle in kustomizations: a → b → a/);
    // The reference that closes the cycle is what to fix: b's resources entry naming a.
    expect(err.location).toEqual({ file: "b/kustomization.yaml", field: "resources[0]" });
  });

  it("refuses an overlay that builds on a directory containing it, as kustomize does", () => {
    const files = {
      "base/kustomization.yaml": "resources: [cm.yaml]\n",
      "base/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\n",
      "base/overlays/prod/kustomization.yaml": "namePrefix: prod-\nresources: [../..]\n",
    };
    const err = renderError(files, "base/overlays/prod");
    expect(err.code).toBe(ErrorCode.RenderFailed);
    expect(err.file).toBe("base/overlays/prod/kustomization.yaml");
    expect(err.field).toBe("resources[0]");
    expect(err.message).toMatch(/cycle in kustomizations: "\.\.\/\.\." is "base", which contains/);
    // The base itself still builds.
    const base = renderKustomization(memoryFileView(files), "base");
    expect(base.ok && base.objects.map((o) => o.metadata.name)).toEqual(["app"]);
  });

  it("refuses a component that contains the kustomization listing it", () => {
    const err = renderError(
      {
        "comp/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nnamePrefix: x-\n",
        "comp/inner/kustomization.yaml": "resources: [cm.yaml]\ncomponents: [..]\n",
        "comp/inner/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: app}\n",
      },
      "comp/inner",
    );
    expect(err.file).toBe("comp/inner/kustomization.yaml");
    expect(err.field).toBe("components[0]");
    expect(err.message).toMatch(/contains this kustomization's own directory "comp\/inner"/);
  });

  it("names the file and field of anything it does not support, and unknown fields", () => {
    const crds = renderError({ "kustomization.yaml": "crds:\n- crd.json\n" });
    expect(crds.code).toBe(ErrorCode.KustomizationUnsupported);
    expect(crds.file).toBe("kustomization.yaml");
    expect(crds.field).toBe("crds");
    const typo = renderError({ "kustomization.yaml": "resource: [a.yaml]\n" });
    expect(typo.field).toBe("resource");
    expect(typo.message).toMatch(/unknown kustomization field "resource"/);
    // Case does not matter (kustomize matches field names as Go's encoding/json does); spelling does.
    const nested = renderError({ "kustomization.yaml": "images:\n- name: nginx\n  newTags: '1'\n" });
    expect(nested.field).toBe("images[0].newTags");
  });

  it("checks apiVersion and kind", () => {
    expect(renderError({ "kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Kustomization\nresources: []\n" }).field).toBe(
      "apiVersion",
    );
    expect(renderError({ "kustomization.yaml": "kind: Deployment\nresources: []\n" }).field).toBe("kind");
    const comp = {
      "c/kustomization.yaml": "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources: []\n",
      "kustomization.yaml": "resources: [c]\n",
    };
    expect(renderError(comp).message).toMatch(/is a Component; list it under components/);
    expect(renderError({ ...comp, "kustomization.yaml": "components: [k]\n", "k/kustomization.yaml": "resources: []\n" }).message).toMatch(
      /must have kind: Component/,
    );
  });

  it("reports YAML syntax errors with file and line", () => {
    const err = renderError({ "kustomization.yaml": "resources: [bad.yaml]\n", "bad.yaml": `${cm("a")}data:\n  a: [1\n` });
    expect(err.code).toBe(ErrorCode.ManifestInvalid);
    expect(err.file).toBe("bad.yaml");
    expect(err.line).toBeGreaterThanOrEqual(5);
    expect(err.message).toMatch(/^bad\.yaml:\d+: YAML syntax error: .*\(listed in kustomization\.yaml resources\[0\]\)$/);
    const k = renderError({ "kustomization.yaml": "resources:\n  - a\n - b\n" });
    expect(k.file).toBe("kustomization.yaml");
    expect(k.line).toBeDefined();
  });

  it("refuses kustomization directories with none or several kustomization files", () => {
    expect(renderError({ "x.yaml": cm("a") }).message).toMatch(/unable to find one of 'kustomization.yaml'/);
    expect(renderError({ "kustomization.yaml": "", Kustomization: "" }).message).toMatch(/multiple kustomization files/);
  });

  it("enforces limits on file size, object count and depth", () => {
    const big = renderError(
      { "kustomization.yaml": "resources: [cm.yaml]\n", "cm.yaml": cm("a") + "data:\n  x: " + "y".repeat(2000) + "\n" },
      "",
      { maxFileBytes: 1000 },
    );
    expect(big.message).toMatch(/cm\.yaml is \d+ bytes, over the 1000-byte limit/);
    const many = renderError(
      { "kustomization.yaml": "resources: [cms.yaml]\n", "cms.yaml": [cm("a"), cm("b"), cm("c")].join("---\n") },
      "",
      { maxObjects: 2 },
    );
    expect(many.message).toMatch(/more than 2 objects/);
    const deep = renderError(
      {
        "kustomization.yaml": "resources: [a]\n",
        "a/kustomization.yaml": "resources: [b]\n",
        "a/b/kustomization.yaml": "resources: [cm.yaml]\n",
        "a/b/cm.yaml": cm("x"),
      },
      "",
      { maxDepth: 2 },
    );
    expect(deep.message).toMatch(/nest deeper than the limit of 2/);
  });

  it("refuses duplicate objects and objects without a name", () => {
    expect(
      renderError({ "kustomization.yaml": "resources: [a.yaml, b.yaml]\n", "a.yaml": cm("x"), "b.yaml": cm("x") }).message,
    ).toMatch(/already registered id: ConfigMap x/);
    const noName = renderError({ "kustomization.yaml": "resources: [a.yaml]\n", "a.yaml": "apiVersion: v1\nkind: ConfigMap\n" });
    expect(noName.message).toMatch(/a\.yaml.*has no metadata\.name.*listed in kustomization\.yaml/);
  });

  it("refuses replicas that match nothing and label values that are not strings", () => {
    expect(renderError({ "kustomization.yaml": "replicas:\n- name: web\n  count: 2\n" }).field).toBe("replicas[0]");
    const notString = renderError({ "kustomization.yaml": "commonLabels:\n  enabled: yes\n" });
    expect(notString.field).toBe("commonLabels.enabled");
  });
});
