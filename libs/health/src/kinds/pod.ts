import type { KubeObject } from "@flotilla/model";
import { Reason } from "@flotilla/model";
import { arr, conditionOf, nameOf, obj, statusOf, str } from "../fields.js";
import { degraded, healthy, progressing, type HealthResult } from "../result.js";

const imagePullReasons = new Set(["ImagePullBackOff", "ErrImagePull", "InvalidImageName"]);

export function podHealth(o: KubeObject): HealthResult {
  const status = statusOf(o);
  const name = nameOf(o);
  const phase = str(status["phase"]) ?? "Pending";

  if (phase === "Succeeded") return healthy(`${name} completed`);
  if (phase === "Failed") return degraded(Reason.PodFailed, `${name} failed: ${str(status["message"]) ?? str(status["reason"]) ?? "phase Failed"}`);

  // A waiting reason explains a pod that is not ready better than the Ready condition does.
  const containers = [...arr(status["initContainerStatuses"]), ...arr(status["containerStatuses"])].map(obj);
  for (const c of containers) {
    const waiting = obj(obj(c["state"])["waiting"]);
    const reason = str(waiting["reason"]);
    if (reason === "CrashLoopBackOff") {
      return degraded(Reason.CrashLoopBackOff, `${name}: container ${str(c["name"]) ?? "?"} is in CrashLoopBackOff`);
    }
    if (reason !== undefined && imagePullReasons.has(reason)) {
      return degraded(Reason.ImagePullBackOff, `${name}: container ${str(c["name"]) ?? "?"} cannot pull its image (${reason})`);
    }
  }

  const ready = conditionOf(o, "Ready");
  if (phase === "Running" && ready?.status === "True") return healthy(`${name} is running and ready`);
  if (phase === "Running") return progressing(Reason.NotReady, `${name} is running but not ready`);
  return progressing(Reason.InProgress, `${name} is ${phase}`);
}
