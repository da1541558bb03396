// Which apps run on a cluster, and with which policy. Pure functions over a parsed Fleet.
import { DriftPolicy, type App, type Cluster, type EffectivePolicy, type Fleet } from "@flotilla/model";

export const DEFAULT_POLICY: EffectivePolicy = { drift: DriftPolicy.Enforce, prune: true, ignore: [] };

/**
 * The app's policy on a cluster: the app's fields override its environment's, which override the
 * defaults (enforce, prune). Ignore rules add up: the environment's, then the app's.
 */
export function effectivePolicy(fleet: Fleet, app: App, cluster: Cluster): EffectivePolicy {
  const env = fleet.environments.find((e) => e.name === cluster.environment);
  return {
    drift: app.drift ?? env?.drift ?? DEFAULT_POLICY.drift,
    prune: app.prune ?? env?.prune ?? DEFAULT_POLICY.prune,
    ignore: [...(env?.ignore ?? []), ...(app.ignore ?? [])],
  };
}

/** Whether an app's selector picks a cluster. Every given condition must hold; none = everywhere. */
export function selects(app: App, cluster: Cluster): boolean {
  const s = app.selector;
  if (!s) return true;
  if (s.environments && !s.environments.includes(cluster.environment)) return false;
  if (s.clusters && !s.clusters.includes(cluster.name)) return false;
  for (const [k, v] of Object.entries(s.matchLabels ?? {})) if (cluster.labels[k] !== v) return false;
  return true;
}

/** The apps deployed to a cluster, sorted by name. */
export function appsForCluster(fleet: Fleet, cluster: Cluster): App[] {
  return fleet.apps.filter((a) => selects(a, cluster)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
