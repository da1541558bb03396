// Which clusters each wave of a rollout reaches. Pure: the fleet's clusters and the rollout spec in,
// the plan out. Clusters are taken in name order, so the same fleet gives the same plan on any hub.
import type { Cluster, WaveSpec } from "@flotilla/model";

export interface PlannedWave {
  name: string;
  clusters: string[];
  failureBudget: number;
  soakMs: number;
  pauseMs: number;
}

/**
 * Assigns each cluster to the first wave that claims it: explicit `clusters`, a label `selector`,
 * or a cumulative `percent` of the environment's clusters (rounded up, so 50 % of 3 is 2). Clusters
 * no wave claims form a last wave `remaining`; waves left with no cluster are dropped.
 */
export function planWaves(clusters: readonly Cluster[], waves: readonly WaveSpec[]): PlannedWave[] {
  const pool = [...clusters].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const assigned = new Set<string>();
  const plan: PlannedWave[] = [];
  waves.forEach((w, i) => {
    let picked: string[];
    if (w.clusters) picked = w.clusters.filter((c) => pool.some((p) => p.name === c) && !assigned.has(c));
    else if (w.selector) {
      const labels = Object.entries(w.selector.matchLabels);
      picked = pool.filter((c) => !assigned.has(c.name) && labels.every(([k, v]) => c.labels[k] === v)).map((c) => c.name);
    } else {
      const target = Math.ceil(((w.percent ?? 100) / 100) * pool.length);
      const need = Math.max(0, target - assigned.size);
      picked = pool.filter((c) => !assigned.has(c.name)).slice(0, need).map((c) => c.name);
    }
    picked.forEach((c) => assigned.add(c));
    plan.push({ name: w.name ?? `wave-${i + 1}`, clusters: picked, failureBudget: w.failureBudget ?? 0, soakMs: w.soakMs ?? 0, pauseMs: w.pauseMs ?? 0 });
  });
  const rest = pool.filter((c) => !assigned.has(c.name)).map((c) => c.name);
  if (rest.length) plan.push({ name: "remaining", clusters: rest, failureBudget: 0, soakMs: 0, pauseMs: 0 });
  return plan.filter((w) => w.clusters.length > 0);
}
