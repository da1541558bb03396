// KubeClient on credentials read by our own loader (no @kubernetes/client-node): the shared
// plane's admin kubeconfig (client certificate, CA data) and a minted namespaced identity's
// (bearer token) both reach the real API server over TLS, and the token is really the one used.
import { useSharedControlPlane } from "@flotilla/testkit/vitest";
import { describe, expect, it } from "vitest";
import { KubeClient, isKubeConfig, kubeConnectionFromKubeconfig, loadKubeCredentials, targetOf } from "../src/index.js";
import { configMap } from "./objects.js";

const plane = useSharedControlPlane();
const owner = { fieldManager: "flotilla" };

async function applyAndGet(client: KubeClient, ns: string, name: string): Promise<void> {
  const cm = configMap(ns, name, { loadedBy: "kube-connection" });
  const applied = await client.apply(cm, owner);
  expect(applied.ok, applied.ok ? "" : applied.failure.message).toBe(true);
  const live = await client.get(targetOf(cm));
  expect(live.ok && live.value?.["data"]).toEqual({ loadedBy: "kube-connection" });
}

describe("KubeClient from the KubeConnection loader", () => {
  it("applies and reads with the admin kubeconfig file (client certificate)", async () => {
    const connection = kubeConnectionFromKubeconfig(plane.kubeconfigPath);
    expect(connection.cert && connection.key && connection.ca).toBeTruthy();
    const client = new KubeClient(connection);
    try {
      const ns = await plane.freshNamespace("kc-admin");
      await applyAndGet(client, ns, "admin-cm");
    } finally {
      client.close();
    }
  });

  it("applies and reads with a namespaced identity's kubeconfig (token), and is refused outside", async () => {
    const ns = await plane.freshNamespace("kc-tenant");
    const other = await plane.freshNamespace("kc-other");
    const identity = await plane.mintNamespacedIdentity({ name: "tenant", namespaces: [ns] });
    const creds = await loadKubeCredentials(identity.kubeconfigPath);
    expect(isKubeConfig(creds)).toBe(false);
    const client = new KubeClient(creds);
    try {
      await applyAndGet(client, ns, "tenant-cm");
      // Forbidden (not Unauthorized) naming the service account: the minted token was sent.
      const denied = await client.apply(configMap(other, "nope", { a: "1" }), owner);
      expect(denied.ok).toBe(false);
      if (!denied.ok) {
        expect(denied.failure.status).toBe(403);
        expect(denied.failure.message).toContain(identity.user);
      }
    } finally {
      client.close();
    }
  });
});
