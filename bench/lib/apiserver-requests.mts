// What the API server was asked during a bench phase: apiserver_request_total from its /metrics
// (admin credentials), summed by verb and resource, between two snapshots. Counts requests of
// every client, so a phase's figure includes the bench's own calls (it makes none during B1).
import type { KubeConfig } from "@kubernetes/client-node";
import { kubeRequest } from "@flotilla/testkit";

export type RequestCounts = Map<string, number>;

export async function apiserverRequests(kc: KubeConfig): Promise<RequestCounts> {
  const res = await kubeRequest(kc, { path: "/metrics" });
  if (res.status !== 200) throw new Error(`GET /metrics: HTTP ${res.status}`);
  const counts: RequestCounts = new Map();
  for (const line of res.text.split("\n")) {
    if (!line.startsWith("apiserver_request_total{")) continue;
    const labels = line.slice(line.indexOf("{") + 1, line.lastIndexOf("}"));
    const label = (n: string) => new RegExp(`(?:^|,)${n}="([^"]*)"`).exec(labels)?.[1] ?? "";
    const key = `${label("verb")} ${label("resource")}${label("subresource") ? `/${label("subresource")}` : ""}`;
    counts.set(key, (counts.get(key) ?? 0) + Number(line.slice(line.lastIndexOf(" ") + 1)));
  }
  return counts;
}

/** "PATCH configmaps 2000, GET configmaps 1000, …" (largest first; per cluster when n is given). */
export function formatRequestsBetween(a: RequestCounts, b: RequestCounts, n = 1): string {
  const diffs = [...b].map(([k, v]) => [k, v - (a.get(k) ?? 0)] as const).filter(([, d]) => d > 0);
  diffs.sort((x, y) => y[1] - x[1]);
  const total = diffs.reduce((s, [, d]) => s + d, 0);
  return `${(total / n).toFixed(1)} per cluster: ${diffs.map(([k, d]) => `${k} ${(d / n).toFixed(2)}`).join(", ")}`;
}
