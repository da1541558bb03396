// Job and CronJob.
//
// A Job is Suspended only once its controller says so (condition Suspended=True): setting
// spec.suspend asks the controller to stop the Job's pods, and until it has, pods may still run
// (issue 10). Likewise a Job whose suspend was lifted but still says Suspended=True is resuming.
import type { KubeObject } from "@flotilla/model";
import { Reason } from "@flotilla/model";
import { conditionOf, nameOf, specOf } from "../fields.js";
import { HealthReason } from "../reasons.js";
import { degraded, healthy, progressing, suspended, type HealthResult } from "../result.js";

export function jobHealth(o: KubeObject): HealthResult {
  const name = nameOf(o);
  const failed = conditionOf(o, "Failed");
  if (failed?.status === "True") return degraded(Reason.JobFailed, `${name} failed: ${failed.message ?? failed.reason ?? ""}`.trim());
  const complete = conditionOf(o, "Complete");
  if (complete?.status === "True") return healthy(`${name} completed`);

  const wantSuspended = specOf(o)["suspend"] === true;
  const isSuspended = conditionOf(o, "Suspended")?.status === "True";
  if (wantSuspended && isSuspended) return suspended(`${name} is suspended`);
  if (wantSuspended) return progressing(HealthReason.SuspendPending, `${name}: suspend requested, not yet acknowledged by the Job controller`);
  if (isSuspended) return progressing(Reason.InProgress, `${name} is resuming`);
  return progressing(Reason.InProgress, `${name} is running`);
}

export function cronJobHealth(o: KubeObject): HealthResult {
  const name = nameOf(o);
  if (specOf(o)["suspend"] === true) return suspended(`${name} is suspended`);
  return healthy(`${name} is scheduled`);
}
