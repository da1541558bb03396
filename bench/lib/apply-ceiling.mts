// The ceiling for bench/fleet's B1: the same apply on the local API server alone, no Flotilla.
// One server-side apply (PATCH application/apply-patch+yaml, force) of a ConfigMap like the
// clusters' app into each of N namespaces, over one keep-alive HTTPS agent with the admin
// credentials, `concurrency` at a time: what the API server and etcd on this machine can do.
// The object is a sibling of the app's (`settings-ceiling`, no Flotilla labels), so no agent
// watches or owns it.
import https from "node:https";
import type { KubeConfig } from "@kubernetes/client-node";

export interface CeilingResult {
  totalMs: number;
  perObjectMs: number[];
}

export async function applyCeiling(kc: KubeConfig, namespaces: string[], version: number, concurrency: number): Promise<CeilingResult> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error("kubeconfig has no current cluster");
  const server = new URL(cluster.server);
  const base: https.RequestOptions = { headers: {} };
  await kc.applyToHTTPSOptions(base);
  const agent = new https.Agent({ keepAlive: true, ...(base.ca ? { ca: base.ca } : {}), ...(base.cert ? { cert: base.cert } : {}), ...(base.key ? { key: base.key } : {}) });
  const apply = (ns: string): Promise<void> => {
    const body = JSON.stringify({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "settings-ceiling", namespace: ns }, data: { version: String(version) } });
    return new Promise((resolve, reject) => {
      const req = https.request(
        {
          agent,
          method: "PATCH",
          hostname: server.hostname,
          port: server.port,
          path: `/api/v1/namespaces/${ns}/configmaps/settings-ceiling?fieldManager=bench-ceiling&force=true`,
          headers: { ...(base.headers as Record<string, string>), "Content-Type": "application/apply-patch+yaml", "Content-Length": Buffer.byteLength(body), Accept: "application/json" },
        },
        (res) => {
          res.resume();
          res.on("end", () => ((res.statusCode ?? 0) < 300 ? resolve() : reject(new Error(`apply in ${ns}: HTTP ${res.statusCode}`))));
        },
      );
      req.on("error", reject);
      req.end(body);
    });
  };
  const perObjectMs: number[] = [];
  const t0 = performance.now();
  let next = 0;
  try {
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < namespaces.length) {
          const ns = namespaces[next++]!;
          const t = performance.now();
          await apply(ns);
          perObjectMs.push(performance.now() - t);
        }
      }),
    );
  } finally {
    agent.destroy();
  }
  return { totalMs: performance.now() - t0, perObjectMs };
}
