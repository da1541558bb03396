import type { KubeObject } from "@flotilla/model";
import { Reason } from "@flotilla/model";
import { conditionOf, nameOf, num, specOf, statusOf } from "../fields.js";
import { degraded, healthy, progressing, suspended, type HealthResult } from "../result.js";

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

  const availableCond = conditionOf(o, "Available");
  if (availableCond && availableCond.status !== "True") {
    return progressing(Reason.DeploymentNotAvailable, `${name} is not available: ${availableCond.message ?? ""}`.trim());
  }
  return healthy(`${name}: ${ready} of ${want} replicas ready`);
}
