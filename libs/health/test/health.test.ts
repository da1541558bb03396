import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { Health, type KubeObject } from "@flotilla/model";
import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import { aggregateHealth, computeHealth } from "../src/index.js";

// Fixtures: tests/fixtures/health/<kind>-<state>.yaml; each names its expected health and reason
// in the annotations flotilla.dev/expected-health and flotilla.dev/expected-reason.
const dir = fileURLToPath(new URL("../../../tests/fixtures/health/", import.meta.url));
const fixtures = readdirSync(dir).filter((f) => f.endsWith(".yaml")).sort();

function expectFixture(file: string): void {
  const o = parse(readFileSync(dir + file, "utf8"), { version: "1.1" }) as KubeObject;
  expect(computeHealth(o)).toMatchObject({ health: o.metadata.annotations?.["flotilla.dev/expected-health"], reason: o.metadata.annotations?.["flotilla.dev/expected-reason"] });
}

describe("computeHealth over fixtures", () => {
  it("has at least 25 fixtures", () => expect(fixtures.length).toBeGreaterThanOrEqual(25));
  it.each(fixtures)("%s", (file) => expectFixture(file));
});

describe("computeHealth", () => {
  it("is Missing for an absent object", () => {
    expect(computeHealth(undefined)).toMatchObject({ health: Health.Missing, reason: "NotFound" });
  });

  it("names the object in its message", () => {
    const r = computeHealth({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "api", namespace: "shop" }, spec: { replicas: 2 }, status: { replicas: 1 } });
    expect(r.message).toContain("Deployment shop/api");
    expect(r.message).toContain("1 of 2");
  });

  it("defaults Deployment replicas to 1 when spec.replicas is absent", () => {
    const live = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "a" }, spec: {}, status: { replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1 } };
    expect(computeHealth(live).health).toBe(Health.Healthy);
    expect(computeHealth({ ...live, status: {} }).health).toBe(Health.Progressing);
  });

  describe("observedGeneration, checked for every kind", () => {
    const stale = { metadata: { name: "x", generation: 2 }, status: { observedGeneration: 1 } };
    it.each([
      ["v1", "ConfigMap"],
      ["policy/v1", "PodDisruptionBudget"],
      ["networking.k8s.io/v1", "NetworkPolicy"],
      ["apps/v1", "Deployment"],
      ["example.com/v1", "Widget"],
    ])("%s %s with a stale observedGeneration is Progressing", (apiVersion, kind) => {
      expect(computeHealth({ apiVersion, kind, ...stale })).toMatchObject({ health: Health.Progressing, reason: "LatestGenerationNotObserved" });
    });
    it("a built-in kind without a rule is Healthy once observed (or without observedGeneration)", () => {
      const cm = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", generation: 2 } };
      expect(computeHealth(cm).health).toBe(Health.Healthy);
      expect(computeHealth({ ...cm, status: { observedGeneration: 2 } }).health).toBe(Health.Healthy);
    });
    it("deletion wins over a stale generation", () => {
      const cm = { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", generation: 2, deletionTimestamp: "2026-01-01T00:00:00Z" }, status: { observedGeneration: 1 } };
      expect(computeHealth(cm).reason).toBe("Terminating");
    });
  });
});

describe("aggregateHealth", () => {
  it.each([
    [[], Health.Healthy],
    [[Health.Healthy, Health.Healthy], Health.Healthy],
    [[Health.Healthy, Health.Suspended], Health.Suspended],
    [[Health.Suspended, Health.Unknown], Health.Unknown],
    [[Health.Unknown, Health.Progressing], Health.Progressing],
    [[Health.Progressing, Health.Missing], Health.Missing],
    [[Health.Missing, Health.Degraded, Health.Healthy], Health.Degraded],
  ] as const)("%j → %s", (healths, want) => expect(aggregateHealth(healths)).toBe(want));
});

describe("Pod waiting reasons (Argo CD's pattern: Err…, …Error, …BackOff)", () => {
  const pod = (reason: string) => ({
    apiVersion: "v1", kind: "Pod", metadata: { name: "p", namespace: "demo" },
    status: { phase: "Pending", containerStatuses: [{ name: "app", ready: false, restartCount: 0, state: { waiting: { reason, message: "why" } } }] },
  });
  it.each([
    ["CrashLoopBackOff", "CrashLoopBackOff"],
    ["ImagePullBackOff", "ImagePullBackOff"],
    ["ErrImagePull", "ImagePullBackOff"],
    ["ErrImageNeverPull", "ImagePullBackOff"],
    ["InvalidImageName", "ImagePullBackOff"],
    ["CreateContainerConfigError", "ContainerError"],
    ["CreateContainerError", "ContainerError"],
    ["RunContainerError", "ContainerError"],
    ["PostStartHookError", "ContainerError"],
    ["ErrSomethingNew", "ContainerError"],
  ])("%s → Degraded / %s", (reason, want) => {
    const r = computeHealth(pod(reason));
    expect(r).toMatchObject({ health: Health.Degraded, reason: want });
    expect(r.message).toContain("why");
  });
  it.each(["ContainerCreating", "PodInitializing", "Terminated", "Pulling"])("%s → Progressing", (reason) => {
    expect(computeHealth(pod(reason)).health).toBe(Health.Progressing);
  });
  it("stays Degraded through a whole crash loop: waiting, terminated, running-not-ready", () => {
    const base = { name: "app", ready: false, restartCount: 3, lastState: { terminated: { exitCode: 1 } } };
    const states = [{ waiting: { reason: "CrashLoopBackOff" } }, { terminated: { exitCode: 1 } }, { running: {} }];
    for (const state of states) {
      const live = { apiVersion: "v1", kind: "Pod", metadata: { name: "p" }, spec: { restartPolicy: "Always" }, status: { phase: "Running", conditions: [{ type: "Ready", status: "False" }], containerStatuses: [{ ...base, state }] } };
      expect(computeHealth(live)).toMatchObject({ health: Health.Degraded, reason: "CrashLoopBackOff" });
    }
  });
  it("a never-restarted container that is not ready yet is Progressing", () => {
    const live = { apiVersion: "v1", kind: "Pod", metadata: { name: "p" }, status: { phase: "Running", conditions: [{ type: "Ready", status: "False" }], containerStatuses: [{ name: "app", ready: false, restartCount: 0, state: { running: {} } }] } };
    expect(computeHealth(live)).toMatchObject({ health: Health.Progressing, reason: "NotReady" });
  });
});

describe("APIService, HorizontalPodAutoscaler, Ingress, PodDisruptionBudget", () => {
  const meta = { name: "x", namespace: "demo" };
  it("APIService Available=False is Degraded with the aggregator's reason and message", () => {
    const r = computeHealth({ apiVersion: "apiregistration.k8s.io/v1", kind: "APIService", metadata: { name: "v1beta1.metrics.k8s.io" }, status: { conditions: [{ type: "Available", status: "False", reason: "FailedDiscoveryCheck", message: "no response from https://10.0.0.9:443" }] } });
    expect(r).toMatchObject({ health: Health.Degraded, reason: "NotAvailable" });
    expect(r.message).toContain("FailedDiscoveryCheck: no response from https://10.0.0.9:443");
  });
  it("APIService Available=Unknown is Progressing", () => {
    const r = computeHealth({ apiVersion: "apiregistration.k8s.io/v1", kind: "APIService", metadata: { name: "a" }, status: { conditions: [{ type: "Available", status: "Unknown" }] } });
    expect(r.health).toBe(Health.Progressing);
  });
  const hpa = (conditions: unknown[], annotations?: Record<string, string>) => ({ apiVersion: "autoscaling/v2", kind: "HorizontalPodAutoscaler", metadata: { ...meta, ...(annotations ? { annotations } : {}) }, status: { conditions } });
  it("HPA AbleToScale=False/Backoff… is a pause: Progressing", () => {
    expect(computeHealth(hpa([{ type: "AbleToScale", status: "False", reason: "BackoffBoth" }])).health).toBe(Health.Progressing);
  });
  it("HPA AbleToScale=False/FailedUpdateScale is Degraded", () => {
    expect(computeHealth(hpa([{ type: "AbleToScale", status: "False", reason: "FailedUpdateScale" }]))).toMatchObject({ health: Health.Degraded, reason: "ScalingFailed" });
  });
  it.each(["FailedGetPodsMetric", "FailedGetExternalMetric", "FailedGetObjectMetric", "InvalidSelector", "InvalidMetricSourceType"])("HPA ScalingActive=False/%s is Degraded", (reason) => {
    expect(computeHealth(hpa([{ type: "AbleToScale", status: "True" }, { type: "ScalingActive", status: "False", reason }])).health).toBe(Health.Degraded);
  });
  it("HPA with a malformed v1 conditions annotation is Progressing, not an exception", () => {
    const o = { ...hpa([]), apiVersion: "autoscaling/v1", metadata: { ...meta, annotations: { "autoscaling.alpha.kubernetes.io/conditions": "[{not json" } } };
    expect(computeHealth(o).health).toBe(Health.Progressing);
  });
  it("Ingress names its address", () => {
    const r = computeHealth({ apiVersion: "networking.k8s.io/v1", kind: "Ingress", metadata: meta, status: { loadBalancer: { ingress: [{ ip: "203.0.113.7" }, { hostname: "lb.example.com" }] } } });
    expect(r).toMatchObject({ health: Health.Healthy });
    expect(r.message).toContain("203.0.113.7, lb.example.com");
  });
  it("PDB below its budget says insufficient pods with the counts", () => {
    const r = computeHealth({ apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: meta, status: { currentHealthy: 0, desiredHealthy: 1 } });
    expect(r).toMatchObject({ health: Health.Degraded, reason: "InsufficientPods" });
    expect(r.message).toContain("insufficient pods: 0 healthy, 1 required");
  });
});
