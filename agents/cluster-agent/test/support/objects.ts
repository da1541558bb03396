// Manifests the agent tests apply.
import type { KubeObject } from "@flotilla/model";

export function deployment(ns: string, name: string, replicas: number, extra: { nodeSelector?: Record<string, string>; progressDeadlineSeconds?: number; minReadySeconds?: number; image?: string } = {}): KubeObject {
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: ns, labels: { app: name } },
    spec: {
      replicas,
      selector: { matchLabels: { app: name } },
      ...(extra.minReadySeconds !== undefined ? { minReadySeconds: extra.minReadySeconds } : {}),
      ...(extra.progressDeadlineSeconds !== undefined ? { progressDeadlineSeconds: extra.progressDeadlineSeconds } : {}),
      template: {
        metadata: { labels: { app: name } },
        spec: {
          containers: [{ name: "main", image: extra.image ?? "nginx:1.27" }],
          ...(extra.nodeSelector ? { nodeSelector: extra.nodeSelector } : {}),
        },
      },
    },
  };
}

export function configMap(ns: string, name: string, data: Record<string, string>): KubeObject {
  return { apiVersion: "v1", kind: "ConfigMap", metadata: { name, namespace: ns }, data };
}

export function secret(ns: string, name: string, stringData: Record<string, string>): KubeObject {
  return { apiVersion: "v1", kind: "Secret", metadata: { name, namespace: ns }, type: "Opaque", stringData };
}
