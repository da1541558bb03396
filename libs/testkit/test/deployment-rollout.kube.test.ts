// The shared plane reconciles like a real cluster: a Deployment applied server-side is rolled
// out by the controller-manager, its Pods scheduled onto fake Nodes and made Ready by kwok.
import { describe, expect, it } from "vitest";
import { kubeRequest, waitFor } from "../src/index.js";
import { useSharedControlPlane } from "../src/vitest.js";
import { serverSideApply, objectPath } from "./support/server-side-apply.js";

const plane = useSharedControlPlane();

interface DeploymentStatus {
  readyReplicas?: number;
  conditions?: { type: string; status: string }[];
}

describe("shared control plane", () => {
  it("rolls out a server-side applied Deployment to Available with 3 ready replicas", async () => {
    const ns = await plane.freshNamespace("rollout");
    const deployment = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web", namespace: ns },
      spec: {
        replicas: 3,
        selector: { matchLabels: { app: "web" } },
        template: {
          metadata: { labels: { app: "web" } },
          spec: { containers: [{ name: "web", image: "registry.example/web:1" }] },
        },
      },
    };
    const applied = await serverSideApply(plane.kubeConfig, deployment);
    expect(applied.status, applied.text).toBe(201);

    const status = await waitFor(
      async () => {
        const res = await kubeRequest<{ status?: DeploymentStatus }>(plane.kubeConfig, { path: objectPath(deployment) });
        const s = res.body.status;
        const available = s?.conditions?.some((c) => c.type === "Available" && c.status === "True");
        return available && s?.readyReplicas === 3 ? s : undefined;
      },
      { what: "Deployment web to be Available with 3 ready replicas", timeoutMs: 60_000, intervalMs: 200 },
    );
    expect(status.readyReplicas).toBe(3);

    // The Pods really exist, each bound to one of the plane's fake Nodes.
    const pods = await kubeRequest<{ items: { spec: { nodeName?: string }; status: { phase?: string } }[] }>(
      plane.kubeConfig,
      { path: `/api/v1/namespaces/${ns}/pods?labelSelector=app%3Dweb` },
    );
    expect(pods.body.items).toHaveLength(3);
    for (const pod of pods.body.items) {
      expect(plane.nodes).toContain(pod.spec.nodeName);
      expect(pod.status.phase).toBe("Running");
    }
  });
});
