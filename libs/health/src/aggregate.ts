// Worst-wins aggregation of object health into app and cluster health.
//
// Order (worst first): Degraded > Missing > Progressing > Unknown > Suspended > Healthy.
// - Degraded and Missing need someone to act; Degraded first because something is broken, not
//   just absent.
// - Unknown ranks above Suspended: we cannot vouch for an object we cannot assess, while a
//   suspended object (paused Deployment, suspended CronJob) is what its owner asked for.
// - An empty set is Healthy: an app with no objects has nothing to be unhealthy about.
import { Health } from "@flotilla/model";

export const healthSeverity: Record<Health, number> = {
  Degraded: 5,
  Missing: 4,
  Progressing: 3,
  Unknown: 2,
  Suspended: 1,
  Healthy: 0,
};

export function aggregateHealth(healths: Iterable<Health>): Health {
  let worst: Health = Health.Healthy;
  for (const h of healths) if (healthSeverity[h] > healthSeverity[worst]) worst = h;
  return worst;
}
