import type { ObjectRef } from "@flotilla/model";
import { refKey } from "@flotilla/model";
import { describe, expect, it } from "vitest";
import { sortForApply, sortForPrune } from "../src/index.js";

const r = (group: string, kind: string, namespace: string, name = "x"): ObjectRef => ({ group, kind, namespace, name });

describe("apply order", () => {
  const shuffled = [
    r("example.com", "Widget", "shop"),
    r("apps", "Deployment", "shop"),
    r("rbac.authorization.k8s.io", "RoleBinding", "shop"),
    r("", "Service", "shop"),
    r("rbac.authorization.k8s.io", "ClusterRole", ""),
    r("", "ConfigMap", "shop"),
    r("rbac.authorization.k8s.io", "Role", "shop"),
    r("", "Secret", "shop"),
    r("", "ServiceAccount", "shop"),
    r("", "Namespace", "", "shop"),
    r("apiextensions.k8s.io", "CustomResourceDefinition", "", "widgets.example.com"),
  ];

  it("puts CRDs and Namespaces first, then cluster-scoped, then namespaced by kind", () => {
    expect(sortForApply(shuffled, (x) => x).map((x) => x.kind)).toEqual([
      "CustomResourceDefinition",
      "Namespace",
      "ClusterRole",
      "ServiceAccount",
      "Secret",
      "ConfigMap",
      "Role",
      "RoleBinding",
      "Service",
      "Deployment",
      "Widget",
    ]);
  });

  it("keeps the given order among objects of one kind", () => {
    const cms = ["b", "a", "c"].map((n) => r("", "ConfigMap", "shop", n));
    expect(sortForApply(cms, (x) => x).map((x) => x.name)).toEqual(["b", "a", "c"]);
  });

  it("prunes in reverse apply order", () => {
    expect(sortForPrune(shuffled, (x) => x).map(refKey)).toEqual(sortForApply(shuffled, (x) => x).map(refKey).reverse());
  });
});
