import { ErrorCode } from "@flotilla/model";
import { describe, expect, it } from "vitest";
import { deployment, render, renderError } from "./helpers.js";

// `generators:` / `transformers:` run kustomize's builtin plugins only; everything else is refused
// naming the config file, the kustomization that lists it and what to do instead.
const base = { "app/deploy.yaml": deployment("web") };

describe("builtin plugin configs", () => {
  it("refuse an exec plugin config, naming its file and the listing kustomization", () => {
    const err = renderError(
      {
        ...base,
        "app/kustomization.yaml": "resources: [deploy.yaml]\ngenerators: [chart.yaml]\n",
        "app/chart.yaml": "apiVersion: someteam.example.com/v1\nkind: ChartInflator\nmetadata: {name: c}\n",
      },
      "app",
    );
    expect(err.code).toBe(ErrorCode.KustomizationUnsupported);
    expect(err.file).toBe("app/chart.yaml");
    expect(err.message).toContain("exec or Go plugin");
    expect(err.message).toContain("listed in app/kustomization.yaml generators[0]");
  });

  it("refuse a KRM-function config and helm, saying what to do", () => {
    const fn = renderError(
      {
        ...base,
        "app/kustomization.yaml":
          "resources: [deploy.yaml]\ntransformers:\n- |\n  apiVersion: fn.example.com/v1\n  kind: SetLabels\n  metadata:\n    name: f\n    annotations:\n      config.kubernetes.io/function: 'container: {image: x}'\n",
      },
      "app",
    );
    expect(fn.file).toBe("app/kustomization.yaml");
    expect(fn.field).toBe("transformers");
    expect(fn.message).toContain("KRM-function plugin");
    const helm = renderError(
      {
        ...base,
        "app/kustomization.yaml":
          "resources: [deploy.yaml]\ngenerators:\n- |\n  apiVersion: builtin\n  kind: HelmChartInflationGenerator\n  metadata: {name: h}\n  chartName: x\n",
      },
      "app",
    );
    expect(helm.code).toBe(ErrorCode.KustomizationUnsupported);
    expect(helm.message).toContain("render the chart into plain manifests");
  });

  it("read plugin config fields in any case and ignore unknown ones, as kustomize's decoder does", () => {
    const out = render(
      {
        ...base,
        "app/kustomization.yaml":
          "resources: [deploy.yaml]\ntransformers:\n- |\n  apiVersion: builtin\n  kind: LabelTransformer\n  metadata: {name: l}\n  Labels: {a: b}\n  fieldSpecs: [{path: metadata/labels, create: true}]\n  somethingElse: 1\n",
      },
      "app",
    );
    expect(out[0]?.metadata.labels).toEqual({ a: "b" });
  });
});
