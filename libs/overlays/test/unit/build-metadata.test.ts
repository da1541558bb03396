// buildMetadata: originAnnotations is covered against kubectl by conformance case 77b; these
// cover what cannot be compared with kubectl (its managed-by value is not a valid label value).
import { ErrorCode } from "@flotilla/model";
import { describe, expect, it } from "vitest";
import { find, render, renderError } from "./helpers.js";

const cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n";

describe("buildMetadata", () => {
  it("managedByLabel labels every object with the kustomize release it follows, only from the built kustomization", () => {
    const files = {
      "base/kustomization.yaml": "resources: [cm.yaml]\nbuildMetadata: [managedByLabel]\n",
      "base/cm.yaml": cm,
      "app/kustomization.yaml": "resources: [../base]\nconfigMapGenerator:\n- name: g\n  literals: [a=b]\nbuildMetadata: [managedByLabel, someFutureOption]\n",
    };
    const objects = render(files, "app");
    expect(objects.map((o) => o.metadata.labels?.["app.kubernetes.io/managed-by"])).toEqual(["kustomize-v5.5.0", "kustomize-v5.5.0"]);
    expect(find(render(files, "base"), "ConfigMap", "c").metadata.labels).toEqual({ "app.kubernetes.io/managed-by": "kustomize-v5.5.0" });
    const plain = { ...files, "app/kustomization.yaml": "resources: [../base]\n" };
    expect(find(render(plain, "app"), "ConfigMap", "c").metadata.labels).toBeUndefined();
  });

  it("refuses transformerAnnotations, naming the file and field", () => {
    const err = renderError({ "kustomization.yaml": "resources: [cm.yaml]\nbuildMetadata: [transformerAnnotations]\n", "cm.yaml": cm });
    expect(err.code).toBe(ErrorCode.KustomizationUnsupported);
    expect(err.file).toBe("kustomization.yaml");
    expect(err.field).toBe("buildMetadata");
  });
});
