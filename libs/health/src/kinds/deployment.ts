// Deployment: kstatus' rules — paused, progress deadline, replica counts, then the controller's
// own conditions.
import type { KubeObject } from "@flotilla/model";
import { Reason } from "@flotilla/model";
import { conditionOf, nameOf, num, specOf, statusOf } from "../fields.js";
import { HealthReason } from "../reasons.js";
import { degraded, healthy, progressing, suspended, type HealthResult } from "../result.js";

/** What the Deployment controller treats as "no progress deadline" (math.MaxInt32). */
const noProgressDeadline = 2147483647;

export function deploymentHealth(o: KubeObject): HealthResult {
  const spec = specOf(o);
  const status = statusOf(o);
  const name = nameOf(o);
  if (spec["paused"] === true) return suspended(`${name} is paused`);

  const progressingCond = conditionOf(o, "Progressing");
  if (progressingCond?.reason === "ProgressDeadlineExceeded") {
    return degraded(Reason.ProgressDeadlineExceeded, `${name} exceeded its progress deadline: ${progressingCond.message ?? ""}`.trim());
  }

  const want = num(spec["replicas"], 1);
  const replicas = num(status["replicas"]);
  const updated = num(status["updatedReplicas"]);
  const ready = num(status["readyReplicas"]);
  const available = num(status["availableReplicas"]);

  if (replicas < want) return progressing(Reason.LessReplicas, `${name}: ${replicas} of ${want} replicas exist`);
  if (updated < want) return progressing(Reason.LessUpdated, `${name}: ${updated} of ${want} replicas updated`);
  if (replicas > want) return progressing(Reason.ExtraPods, `${name}: ${replicas - want} old replicas pending termination`);
  if (available < want) return progressing(Reason.LessAvailable, `${name}: ${available} of ${want} replicas available`);
  if (ready < want) return progressing(Reason.LessReady, `${name}: ${ready} of ${want} replicas ready`);

  // kstatus: with a progress deadline the controller maintains the Progressing condition, and only
  // reason NewReplicaSetAvailable says the rollout is complete (counts can look right a moment
  // before the controller agrees). Without one (absent, or the controller's "no deadline" value
  // 2^31-1) the condition is not kept, so the counts decide.
  const deadline = spec["progressDeadlineSeconds"];
  if (typeof deadline === "number" && deadline !== noProgressDeadline) {
    if (progressingCond?.status !== "True" || progressingCond.reason !== "NewReplicaSetAvailable") {
      const detail = progressingCond ? `${progressingCond.reason ?? progressingCond.status}` : "no Progressing condition yet";
      return progressing(HealthReason.ReplicaSetNotAvailable, `${name}: rollout not yet reported complete (${detail})`);
    }
  }

  const availableCond = conditionOf(o, "Available");
  if (availableCond && availableCond.status !== "True") {
    return progressing(Reason.DeploymentNotAvailable, `${name} is not available: ${availableCond.message ?? ""}`.trim());
  }
  return healthy(`${name}: ${ready} of ${want} replicas ready`);
}
