import type { KubeObject } from "@flotilla/model";
import { Reason } from "@flotilla/model";
import { conditionOf, nameOf, specOf } from "../fields.js";
import { degraded, healthy, progressing, suspended, type HealthResult } from "../result.js";

export function jobHealth(o: KubeObject): HealthResult {
  const name = nameOf(o);
  const failed = conditionOf(o, "Failed");
  if (failed?.status === "True") return degraded(Reason.JobFailed, `${name} failed: ${failed.message ?? failed.reason ?? ""}`.trim());
  const complete = conditionOf(o, "Complete");
  if (complete?.status === "True") return healthy(`${name} completed`);
  if (specOf(o)["suspend"] === true) return suspended(`${name} is suspended`);
  return progressing(Reason.InProgress, `${name} is running`);
}

export function cronJobHealth(o: KubeObject): HealthResult {
  const name = nameOf(o);
  if (specOf(o)["suspend"] === true) return suspended(`${name} is suspended`);
  return healthy(`${name} is scheduled`);
}
