// Manifests for the Kubernetes tests: small builders so each test reads as its scenario.
import type { KubeObject } from "@flotilla/model";
import { targetOf, type KubeClient } from "../src/index.js";

export const configMap = (namespace: string, name: string, data: Record<string, string>, annotations?: Record<string, string>): KubeObject => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name, namespace, ...(annotations ? { annotations } : {}) },
  data,
});

export const secret = (namespace: string, name: string, stringData: Record<string, string>): KubeObject => ({
  apiVersion: "v1",
  kind: "Secret",
  metadata: { name, namespace },
  type: "Opaque",
  stringData,
});

export const serviceAccount = (namespace: string, name: string): KubeObject => ({ apiVersion: "v1", kind: "ServiceAccount", metadata: { name, namespace } });

export const service = (namespace: string, name: string): KubeObject => ({
  apiVersion: "v1",
  kind: "Service",
  metadata: { name, namespace },
  spec: { selector: { app: name }, ports: [{ port: 80, targetPort: 8080 }] },
});

export const role = (namespace: string, name: string): KubeObject => ({
  apiVersion: "rbac.authorization.k8s.io/v1",
  kind: "Role",
  metadata: { name, namespace },
  rules: [{ apiGroups: [""], resources: ["configmaps"], verbs: ["get", "list"] }],
});

export const roleBinding = (namespace: string, name: string, roleName: string, sa: string): KubeObject => ({
  apiVersion: "rbac.authorization.k8s.io/v1",
  kind: "RoleBinding",
  metadata: { name, namespace },
  roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: roleName },
  subjects: [{ kind: "ServiceAccount", name: sa, namespace }],
});

export const deployment = (namespace: string, name: string, replicas: number, image = "registry.example/web:1.0"): KubeObject => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name, namespace, labels: { app: name } },
  spec: {
    replicas,
    selector: { matchLabels: { app: name } },
    template: {
      metadata: { labels: { app: name } },
      spec: { containers: [{ name: "web", image, resources: { limits: { cpu: "500m", memory: "64Mi" } } }] },
    },
  },
});

export const namespace = (name: string): KubeObject => ({ apiVersion: "v1", kind: "Namespace", metadata: { name } });

/** A namespaced CRD `widgets.<group>` serving v1 with a free-form spec and a status subresource. */
export const widgetCrd = (group: string): KubeObject => ({
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: `widgets.${group}` },
  spec: {
    group,
    scope: "Namespaced",
    names: { plural: "widgets", singular: "widget", kind: "Widget", listKind: "WidgetList" },
    versions: [
      {
        name: "v1",
        served: true,
        storage: true,
        schema: { openAPIV3Schema: { type: "object", properties: { spec: { type: "object", properties: { size: { type: "integer" }, color: { type: "string" } } } } } },
      },
    ],
  },
});

export const widget = (group: string, namespace: string, name: string, size: number): KubeObject => ({
  apiVersion: `${group}/v1`,
  kind: "Widget",
  metadata: { name, namespace },
  spec: { size },
});

export const rvOf = (o: KubeObject | undefined): string | undefined => o?.metadata["resourceVersion"] as string | undefined;
export const uidOf = (o: KubeObject | undefined): string | undefined => o?.metadata["uid"] as string | undefined;

/** The object as the server holds it now (undefined when absent); throws on any other failure. */
export async function readLive(client: KubeClient, o: KubeObject): Promise<KubeObject | undefined> {
  const r = await client.get(targetOf(o));
  if (!r.ok) throw new Error(r.failure.message);
  return r.value;
}
