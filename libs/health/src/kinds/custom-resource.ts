// Custom resources follow the condition conventions kstatus reads: Stalled means the controller
// gave up, Reconciling means it is working, Ready says the outcome. No conditions at all means
// the kind has no status to wait for.
import type { KubeObject } from "@flotilla/model";
import { Reason } from "@flotilla/model";
import { conditionOf, conditionsOf, nameOf } from "../fields.js";
import { degraded, healthy, progressing, type HealthResult } from "../result.js";

export function customResourceHealth(o: KubeObject): HealthResult {
  const name = nameOf(o);
  const detail = (m: string | undefined, r: string | undefined): string => (m ?? r ?? "").trim();

  const stalled = conditionOf(o, "Stalled");
  if (stalled?.status === "True") return degraded(Reason.Stalled, `${name} is stalled: ${detail(stalled.message, stalled.reason)}`);
  const reconciling = conditionOf(o, "Reconciling");
  if (reconciling?.status === "True") return progressing(Reason.InProgress, `${name} is reconciling: ${detail(reconciling.message, reconciling.reason)}`);

  const ready = conditionOf(o, "Ready");
  if (ready?.status === "True") return healthy(`${name} is ready`);
  if (ready) return progressing(Reason.NotReady, `${name} is not ready: ${detail(ready.message, ready.reason)}`);
  if (conditionsOf(o).length === 0) return healthy(`${name} exists`);
  return healthy(`${name} exists (no Ready condition)`);
}
