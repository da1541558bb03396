// Pod: phase first, then the containers' own account of why the pod is not ready.
//
// A crash-looping container alternates between waiting (CrashLoopBackOff), running-but-not-ready
// and terminated; judged by its current state alone the pod flaps between Degraded and
// Progressing. The kubelet's lastState remembers the crash, so a container that is not ready,
// has restarted, and last exited non-zero stays Degraded across the back-off (issue 10).
import type { KubeObject } from "@flotilla/model";
import { Reason } from "@flotilla/model";
import { arr, conditionOf, nameOf, num, obj, specOf, statusOf, str, type Json } from "../fields.js";
import { HealthReason } from "../reasons.js";
import { degraded, healthy, progressing, type HealthResult } from "../result.js";

/** Waiting reasons the kubelet uses for images it cannot get; InvalidImageName matches none of the
 * Err / Error / BackOff patterns, so it is named here. */
const imageReasons = new Set(["ImagePullBackOff", "ErrImagePull", "ErrImageNeverPull", "InvalidImageName", "ImageInspectError"]);

/** Argo CD's pattern for a waiting reason that is an error, not a step (ContainerCreating,
 * PodInitializing): starts with `Err`, or ends with `Error` or `BackOff`. */
const isErrorWaitingReason = (reason: string): boolean =>
  imageReasons.has(reason) || reason.startsWith("Err") || reason.endsWith("Error") || reason.endsWith("BackOff");

const containerName = (c: Json): string => str(c["name"]) ?? "?";

function waitingError(pod: string, c: Json): HealthResult | undefined {
  const waiting = obj(obj(c["state"])["waiting"]);
  const reason = str(waiting["reason"]);
  if (reason === undefined || !isErrorWaitingReason(reason)) return undefined;
  const detail = str(waiting["message"]);
  const tail = detail ? `: ${detail}` : "";
  if (reason === "CrashLoopBackOff") return degraded(Reason.CrashLoopBackOff, `${pod}: container ${containerName(c)} is in CrashLoopBackOff${tail}`);
  if (imageReasons.has(reason)) return degraded(Reason.ImagePullBackOff, `${pod}: container ${containerName(c)} cannot pull its image (${reason})${tail}`);
  return degraded(HealthReason.ContainerError, `${pod}: container ${containerName(c)} is waiting on ${reason}${tail}`);
}

/** Not ready, restarted, and the last run exited non-zero: crash-looping, whatever its state now. */
function crashedBefore(pod: string, c: Json): HealthResult | undefined {
  if (c["ready"] === true || num(c["restartCount"]) === 0) return undefined;
  const last = obj(obj(c["lastState"])["terminated"]);
  const exitCode = num(last["exitCode"]);
  if (exitCode === 0) return undefined;
  const why = str(last["reason"]) ?? "Error";
  return degraded(
    Reason.CrashLoopBackOff,
    `${pod}: container ${containerName(c)} restarted ${num(c["restartCount"])} times, last exit ${exitCode} (${why})`,
  );
}

export function podHealth(o: KubeObject): HealthResult {
  const status = statusOf(o);
  const name = nameOf(o);
  const phase = str(status["phase"]) ?? "Pending";

  if (phase === "Succeeded") return healthy(`${name} completed`);
  if (phase === "Failed") return degraded(Reason.PodFailed, `${name} failed: ${str(status["message"]) ?? str(status["reason"]) ?? "phase Failed"}`);

  // A waiting reason explains a pod that is not ready better than the Ready condition does.
  const containers = [...arr(status["initContainerStatuses"]), ...arr(status["containerStatuses"])].map(obj);
  for (const c of containers) {
    const r = waitingError(name, c);
    if (r) return r;
  }
  // Only restartPolicy Always (the default) restarts a container that exited non-zero forever;
  // OnFailure pods belong to Jobs, whose backoffLimit decides when that is a failure.
  if ((str(specOf(o)["restartPolicy"]) ?? "Always") === "Always") {
    for (const c of arr(status["containerStatuses"]).map(obj)) {
      const r = crashedBefore(name, c);
      if (r) return r;
    }
  }

  const ready = conditionOf(o, "Ready");
  if (phase === "Running" && ready?.status === "True") return healthy(`${name} is running and ready`);
  if (phase === "Running") return progressing(Reason.NotReady, `${name} is running but not ready`);
  return progressing(Reason.InProgress, `${name} is ${phase}`);
}
