// A tenant identity is confined to its namespaces: it applies there, and the apiserver refuses
// cluster-scoped writes and writes elsewhere with a 403 naming the ServiceAccount.
import { describe, expect, it } from "vitest";
import { kubeRequest } from "../src/index.js";
import { useSharedControlPlane } from "../src/vitest.js";
import { serverSideApply } from "./support/server-side-apply.js";

const plane = useSharedControlPlane();

const configMap = (namespace: string) => ({
  apiVersion: "v1",
  kind: "ConfigMap",
  metadata: { name: "settings", namespace },
  data: { mode: "tenant" },
});

describe("mintNamespacedIdentity", () => {
  it("may apply in its namespace and is refused cluster-wide and in other namespaces", async () => {
    const home = await plane.freshNamespace("tenant");
    const other = await plane.freshNamespace("other");
    const id = await plane.mintNamespacedIdentity({ name: "agent", namespaces: [home] });
    expect(id.user).toBe(`system:serviceaccount:${home}:agent`);

    const ok = await serverSideApply(id.kubeConfig, configMap(home));
    expect(ok.status, ok.text).toBe(201);

    const clusterRole = await kubeRequest<{ message?: string }>(id.kubeConfig, {
      method: "POST",
      path: "/apis/rbac.authorization.k8s.io/v1/clusterroles",
      body: {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRole",
        metadata: { name: `escalate-${home}` },
        rules: [{ apiGroups: ["*"], resources: ["*"], verbs: ["*"] }],
      },
    });
    expect(clusterRole.status).toBe(403);
    expect(clusterRole.body.message).toContain(id.user);

    const elsewhere = await serverSideApply(id.kubeConfig, configMap(other));
    expect(elsewhere.status).toBe(403);
    expect((elsewhere.body as { message?: string }).message).toContain(id.user);
    expect((elsewhere.body as { message?: string }).message).toContain(other);
  });

  it("covers every namespace it is given, and its kubeconfig file works on its own", async () => {
    const home = await plane.freshNamespace("tenant");
    const second = await plane.freshNamespace("second");
    const id = await plane.mintNamespacedIdentity({ name: "agent", namespaces: [home, second] });

    const { KubeConfig } = await import("@kubernetes/client-node");
    const fromFile = new KubeConfig();
    fromFile.loadFromFile(id.kubeconfigPath);
    expect(fromFile.getCurrentUser()?.token).toBe(id.token);

    const res = await serverSideApply(fromFile, configMap(second));
    expect(res.status, res.text).toBe(201);
    const list = await kubeRequest(id.kubeConfig, { path: `/api/v1/namespaces/${home}/configmaps` });
    expect(list.status).toBe(200);
  });
});
