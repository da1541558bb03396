// What the benches read from the fleet API, and waiting for a cluster to converge.
import { waitFor } from "@flotilla/testkit";

export interface ClusterView {
  name: string;
  observedRevision: string | null;
  syncState: string;
  health: string;
  lastError: { code: string; message: string } | null;
  apps?: { name: string; objects: { kind: string; name: string; namespace?: string; action: string; health?: string; reason?: string; message?: string }[] }[];
}

type Api = <T>(path: string) => Promise<T>;

/** Short text of what a cluster reports, for errors and the report. */
export function describeView(v: ClusterView | undefined): string {
  if (!v) return "no status yet";
  const objects = (v.apps ?? []).flatMap((a) => a.objects);
  const failed = objects.filter((o) => o.action === "failed");
  const parts = [`${v.syncState}/${v.health}`, `observed ${v.observedRevision?.slice(0, 8) ?? "none"}`, `${objects.length} objects`];
  if (v.lastError) parts.push(`lastError ${v.lastError.code}: ${v.lastError.message}`);
  if (failed.length) parts.push(`${failed.length} failed, first: ${failed[0]!.kind} ${failed[0]!.namespace ?? ""}/${failed[0]!.name}: ${failed[0]!.reason ?? ""} ${failed[0]!.message ?? ""}`);
  return parts.join("; ");
}

/** Waits until the cluster reports `revision` observed and Synced with at least `objects` objects. */
export async function waitSynced(api: Api, cluster: string, revision: string, objects: number, timeoutMs: number): Promise<ClusterView> {
  let last: ClusterView | undefined;
  try {
    return await waitFor(
      async () => {
        last = await api<ClusterView>(`/v1/clusters/${cluster}`).catch(() => undefined);
        const n = (last?.apps ?? []).reduce((s, a) => s + a.objects.length, 0);
        return last && last.syncState === "Synced" && last.observedRevision === revision && n >= objects ? last : undefined;
      },
      { what: `cluster ${cluster} Synced at ${revision.slice(0, 8)} with ${objects} objects`, timeoutMs, intervalMs: 200 },
    );
  } catch (err) {
    throw new Error(`${(err as Error).message}; last seen: ${describeView(last)}`);
  }
}
