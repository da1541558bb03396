// DaemonSet: count-based readiness like kstatus, with Argo CD's treatment of OnDelete.
//
// computeHealth has already checked observedGeneration, so the counts below describe the current
// spec. With updateStrategy OnDelete the controller never replaces a running pod: old pods stay
// until someone deletes them and updatedNumberScheduled may stay below desired for ever, so the
// update count is not waited for (issue 10). Scheduled, available and ready still are.
import type { KubeObject } from "@flotilla/model";
import { Reason } from "@flotilla/model";
import { nameOf, num, obj, specOf, statusOf, str } from "../fields.js";
import { healthy, progressing, type HealthResult } from "../result.js";

export function daemonSetHealth(o: KubeObject): HealthResult {
  const status = statusOf(o);
  const name = nameOf(o);
  if (typeof status["desiredNumberScheduled"] !== "number") {
    return progressing(Reason.InProgress, `${name}: not yet scheduled by its controller`);
  }
  const desired = num(status["desiredNumberScheduled"]);
  const current = num(status["currentNumberScheduled"]);
  const available = num(status["numberAvailable"]);
  const ready = num(status["numberReady"]);
  const onDelete = str(obj(specOf(o)["updateStrategy"])["type"]) === "OnDelete";

  if (current < desired) return progressing(Reason.LessReplicas, `${name}: ${current} of ${desired} pods scheduled`);
  if (!onDelete) {
    // An absent count is not printed as "0 of N": the API omits zero counts, so on a DaemonSet with
    // pods to run it means the controller has updated none yet, and the rollout is still ahead.
    const updated = status["updatedNumberScheduled"];
    if (typeof updated !== "number" && desired > 0) {
      return progressing(Reason.LessUpdated, `${name}: controller reports no pods updated yet (of ${desired})`);
    }
    if (typeof updated === "number" && updated < desired) return progressing(Reason.LessUpdated, `${name}: ${updated} of ${desired} pods updated`);
  }
  if (available < desired) return progressing(Reason.LessAvailable, `${name}: ${available} of ${desired} pods available`);
  if (ready < desired) return progressing(Reason.LessReady, `${name}: ${ready} of ${desired} pods ready`);
  const note = onDelete ? " (OnDelete: old pods are replaced only when deleted)" : "";
  return healthy(`${name}: ${ready} of ${desired} pods ready${note}`);
}
