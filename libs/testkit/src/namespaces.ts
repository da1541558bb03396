// Test namespaces: unique names, created ready for Pods, deleted without waiting for the
// namespace controller to finish.
import { randomBytes } from "node:crypto";
import type { KubeConfig } from "@kubernetes/client-node";
import { kubeRequest, kubeRequestOk } from "./kube-request.js";
import { waitFor } from "./wait-for.js";

/** A DNS-1123 label fragment: lower case, digits and dashes. */
export function dnsLabel(s: string): string {
  const label = s.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "");
  return label || "x";
}

export function uniqueNamespaceName(prefix: string): string {
  return `${dnsLabel(prefix).slice(0, 50).replace(/-+$/, "")}-${randomBytes(3).toString("hex")}`;
}

export async function serviceAccountExists(kc: KubeConfig, namespace: string, name = "default"): Promise<boolean> {
  const res = await kubeRequest(kc, { path: `/api/v1/namespaces/${namespace}/serviceaccounts/${name}` });
  return res.status === 200;
}

/**
 * Creates `<prefix>-<random>`. With `waitForDefaultServiceAccount` (planes with controllers) it
 * returns once the ServiceAccount controller made the namespace's `default`: until then the
 * apiserver refuses Pods there.
 */
export async function createNamespace(
  kc: KubeConfig,
  prefix: string,
  opts: { waitForDefaultServiceAccount: boolean; labels?: Record<string, string> },
): Promise<string> {
  const name = uniqueNamespaceName(prefix);
  await kubeRequestOk(kc, {
    method: "POST",
    path: "/api/v1/namespaces",
    body: { apiVersion: "v1", kind: "Namespace", metadata: { name, ...(opts.labels ? { labels: opts.labels } : {}) } },
  });
  if (opts.waitForDefaultServiceAccount) {
    await waitFor(() => serviceAccountExists(kc, name), { what: `the default ServiceAccount in ${name}`, timeoutMs: 30_000 });
  }
  return name;
}

/** Starts deleting a namespace (404 is fine); the namespace controller finishes on its own. */
export async function deleteNamespace(kc: KubeConfig, name: string): Promise<void> {
  await kubeRequestOk(kc, { method: "DELETE", path: `/api/v1/namespaces/${name}` }, [404, 409]);
}
