import type { KubeObject } from "@flotilla/model";
import { describe, expect, it } from "vitest";
import { classifyApplyFailure } from "../src/apply-failure.js";
import { MASK, decodeInventory, encodeInventory, maskObject, maskSecretText } from "../src/index.js";

const secret: KubeObject = {
  apiVersion: "v1",
  kind: "Secret",
  metadata: { name: "db", namespace: "shop" },
  data: { password: Buffer.from("s3cr3t-value").toString("base64") },
  stringData: { token: "tok-123456" },
};

describe("masking", () => {
  it("removes plain and base64 Secret values from text", () => {
    const text = `bad value ${Buffer.from("s3cr3t-value").toString("base64")} / s3cr3t-value / tok-123456`;
    const masked = maskSecretText(text, secret);
    expect(masked).not.toMatch(/s3cr3t|tok-123456|czNjcjN0/);
    expect(masked).toContain(MASK);
  });

  it("masks the values of a Secret object and leaves other kinds alone", () => {
    expect(maskObject(secret)["data"]).toEqual({ password: MASK });
    expect(maskObject(secret)["stringData"]).toEqual({ token: MASK });
    const cm: KubeObject = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" }, data: { a: "b" } };
    expect(maskObject(cm)).toBe(cm);
  });
});

describe("classifyApplyFailure", () => {
  it("names a missing namespace clearly", () => {
    const c = classifyApplyFailure({ status: 404, reason: "NotFound", message: 'namespaces "nope" not found', detailsKind: "namespaces", detailsName: "nope" }, { ...secret, metadata: { name: "db", namespace: "nope" } });
    expect(c.reason).toBe("NamespaceMissing");
    expect(c.message).toBe('Secret nope/db: namespace "nope" does not exist; add the Namespace to the bundle or create it first');
  });

  it("recognises immutable fields and masks echoed Secret values", () => {
    const c = classifyApplyFailure({ status: 422, reason: "Invalid", message: "Secret shop/db: data: Forbidden: field is immutable when `immutable` is set (s3cr3t-value)" }, secret);
    expect(c.reason).toBe("ImmutableField");
    expect(c.message).not.toContain("s3cr3t-value");
    expect(c.failure.message).not.toContain("s3cr3t-value");
  });

  it.each([
    "spec.template: Invalid value: core.PodTemplateSpec{}: field is immutable",
    'spec.clusterIPs[0]: Invalid value: []string{"10.0.0.9"}: may not change once set',
    "spec: Forbidden: spec is immutable after creation except resources.requests",
    "spec: Forbidden: updates to statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy' and 'minReadySeconds' are forbidden",
  ])("recognises an immutable field in %s", (message) => {
    const cm: KubeObject = { apiVersion: "apps/v1", kind: "StatefulSet", metadata: { name: "s", namespace: "n" } };
    expect(classifyApplyFailure({ status: 422, reason: "Invalid", message }, cm).reason).toBe("ImmutableField");
    expect(classifyApplyFailure({ status: 422, reason: "Invalid", message: "spec.replicas: Invalid value: -1: must be greater than or equal to 0" }, cm).reason).toBe("Invalid");
  });

  it("maps Kubernetes reasons and prefixes the object", () => {
    const c = classifyApplyFailure({ status: 403, reason: "Forbidden", message: "configmaps is forbidden: User cannot patch" }, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", namespace: "n" } });
    expect(c).toMatchObject({ reason: "Forbidden", message: "ConfigMap n/c: configmaps is forbidden: User cannot patch" });
  });
});

describe("inventory encoding", () => {
  it("round-trips entries, sorted and de-duplicated", () => {
    const a = { ref: { group: "apps", kind: "Deployment", namespace: "shop", name: "web" }, apiVersion: "apps/v1" };
    const b = { ref: { group: "", kind: "Namespace", namespace: "", name: "shop" }, apiVersion: "v1" };
    const text = encodeInventory([a, b, a]);
    expect(JSON.parse(text)).toEqual([
      { ref: "/Namespace//shop", apiVersion: "v1" },
      { ref: "apps/Deployment/shop/web", apiVersion: "apps/v1" },
    ]);
    expect(decodeInventory(text)).toEqual([b, a]);
  });
});
