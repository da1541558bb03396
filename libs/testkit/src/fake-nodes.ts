// Fake Nodes played by kwok: kwok does not create Node objects, it takes over those carrying its
// annotation and keeps their status Ready; the scheduler places Pods on them and kwok marks those
// Pods Running, so Deployments become Available without a kubelet or container runtime.
import type { KubeConfig } from "@kubernetes/client-node";
import { FAKE_NODE_ANNOTATION } from "./component-flags.js";
import { kubeRequest, kubeRequestOk } from "./kube-request.js";

export function fakeNodeName(index: number): string {
  return `fake-node-${index + 1}`;
}

function fakeNode(name: string): object {
  const resources = { cpu: "32", memory: "256Gi", pods: "110", "ephemeral-storage": "1Ti" };
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name,
      annotations: { [FAKE_NODE_ANNOTATION]: "fake", "node.alpha.kubernetes.io/ttl": "0" },
      labels: {
        "kubernetes.io/hostname": name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": "amd64",
        type: "kwok",
      },
    },
    spec: {},
    status: {
      allocatable: resources,
      capacity: resources,
      nodeInfo: { architecture: "amd64", operatingSystem: "linux", kubeletVersion: "fake", kubeProxyVersion: "fake" },
    },
  };
}

export async function createFakeNodes(kc: KubeConfig, count: number): Promise<string[]> {
  const names = Array.from({ length: count }, (_, i) => fakeNodeName(i));
  for (const name of names) {
    await kubeRequestOk(kc, { method: "POST", path: "/api/v1/nodes", body: fakeNode(name) }, [409]);
  }
  return names;
}

/** True when every named Node has condition Ready=True. */
export async function nodesReady(kc: KubeConfig, names: string[]): Promise<boolean> {
  for (const name of names) {
    const res = await kubeRequest<{ status?: { conditions?: { type: string; status: string }[] } }>(kc, {
      path: `/api/v1/nodes/${name}`,
    });
    const ready = res.status === 200 && res.body.status?.conditions?.some((c) => c.type === "Ready" && c.status === "True");
    if (!ready) return false;
  }
  return true;
}
