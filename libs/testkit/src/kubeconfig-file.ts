// Kubeconfig files for a control plane's identities (client certificate or bearer token),
// written as JSON — valid YAML, so kubectl and @kubernetes/client-node both read it.
import { writeFile } from "node:fs/promises";
import { KubeConfig } from "@kubernetes/client-node";

export type KubeCredentials = { certPem: string; keyPem: string } | { token: string };

export interface KubeconfigSpec {
  /** Cluster and context name. */
  name: string;
  user: string;
  server: string;
  caPem: string;
  credentials: KubeCredentials;
  namespace?: string;
}

export function kubeconfigJson(spec: KubeconfigSpec): string {
  const b64 = (s: string) => Buffer.from(s).toString("base64");
  const user =
    "token" in spec.credentials
      ? { token: spec.credentials.token }
      : { "client-certificate-data": b64(spec.credentials.certPem), "client-key-data": b64(spec.credentials.keyPem) };
  const config = {
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: spec.name, cluster: { server: spec.server, "certificate-authority-data": b64(spec.caPem) } }],
    users: [{ name: spec.user, user }],
    contexts: [
      {
        name: spec.name,
        context: { cluster: spec.name, user: spec.user, ...(spec.namespace ? { namespace: spec.namespace } : {}) },
      },
    ],
    "current-context": spec.name,
  };
  return JSON.stringify(config, null, 2) + "\n";
}

/** Writes the file (mode 0600: it holds a key or token) and returns the loaded KubeConfig. */
export async function writeKubeconfig(path: string, spec: KubeconfigSpec): Promise<KubeConfig> {
  const text = kubeconfigJson(spec);
  await writeFile(path, text, { mode: 0o600 });
  const kc = new KubeConfig();
  kc.loadFromString(text);
  return kc;
}
