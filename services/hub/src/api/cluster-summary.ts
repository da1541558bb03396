// One cluster as GET /v1/clusters lists it: its own module, so the response types (responses.ts)
// and the routes that build them (routes/clusters.ts) both depend on it rather than on each other.
import type { ClusterOverview } from "@flotilla/store";

/** The API's view of one cluster in the overview. */
export function clusterSummary(c: ClusterOverview) {
  return {
    name: c.name,
    environment: c.environment,
    labels: c.labels,
    namespaces: c.namespaces,
    desired: c.desired,
    observedRevision: c.observedRevision,
    syncState: c.syncState,
    health: c.health,
    lastHeartbeat: c.lastHeartbeat?.at ?? null,
    openDriftCount: c.openDriftCount,
    lastError: c.lastError,
  };
}
