// PodDisruptionBudget: healthy while it protects as many pods as it promises.
//
// kstatus calls every observed PDB Current; Argo CD's health script reads the DisruptionAllowed
// condition (and since argo-cd#20171 accepts InsufficientPods). We compare the disruption
// controller's counts instead: currentHealthy < desiredHealthy means the budget is already broken
// (a voluntary eviction would be refused), which someone should look at. A budget that allows no
// disruption but is met (minAvailable equal to the replica count) is Healthy. The generation check
// in computeHealth runs first, so the counts are for the current spec.
import type { KubeObject } from "@flotilla/model";
import { Reason } from "@flotilla/model";
import { conditionOf, nameOf, statusOf } from "../fields.js";
import { HealthReason } from "../reasons.js";
import { degraded, healthy, progressing, type HealthResult } from "../result.js";

export function podDisruptionBudgetHealth(o: KubeObject): HealthResult {
  const name = nameOf(o);
  const status = statusOf(o);
  const current = status["currentHealthy"];
  const desired = status["desiredHealthy"];
  if (typeof current !== "number" || typeof desired !== "number") {
    return progressing(Reason.InProgress, `${name}: waiting for the disruption controller`);
  }
  // The controller sets DisruptionAllowed=False/SyncFailed when it cannot compute the budget
  // (e.g. the selected pods' controller has no scale subresource): the counts are then stale.
  const allowed = conditionOf(o, "DisruptionAllowed");
  if (allowed?.status === "False" && allowed.reason === "SyncFailed") {
    return degraded(HealthReason.BudgetNotComputed, `${name}: budget cannot be computed: ${allowed.message ?? "SyncFailed"}`);
  }
  if (current < desired) {
    return degraded(HealthReason.InsufficientPods, `${name}: insufficient pods: ${current} healthy, ${desired} required`);
  }
  return healthy(`${name}: ${current} healthy, ${desired} required`);
}
