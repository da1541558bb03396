// StatefulSet and ReplicaSet: count-based readiness like kstatus (DaemonSet: daemonset.ts).
import type { KubeObject } from "@flotilla/model";
import { Reason } from "@flotilla/model";
import { conditionOf, nameOf, num, obj, specOf, statusOf, str } from "../fields.js";
import { degraded, healthy, progressing, type HealthResult } from "../result.js";

export function statefulSetHealth(o: KubeObject): HealthResult {
  const spec = specOf(o);
  const status = statusOf(o);
  const name = nameOf(o);
  const want = num(spec["replicas"], 1);
  const replicas = num(status["replicas"]);
  const ready = num(status["readyReplicas"]);
  const updated = num(status["updatedReplicas"]);

  if (replicas < want) return progressing(Reason.LessReplicas, `${name}: ${replicas} of ${want} replicas exist`);
  if (replicas > want) return progressing(Reason.ExtraPods, `${name}: ${replicas - want} extra pods pending termination`);
  if (ready < want) return progressing(Reason.LessReady, `${name}: ${ready} of ${want} replicas ready`);

  // OnDelete never rolls pods by itself, so revisions may legitimately differ.
  const strategy = obj(spec["updateStrategy"]);
  if (str(strategy["type"]) !== "OnDelete") {
    const partition = num(obj(strategy["rollingUpdate"])["partition"]);
    if (partition > 0) {
      if (updated < want - partition) {
        return progressing(Reason.LessUpdated, `${name}: ${updated} of ${want - partition} partitioned replicas updated`);
      }
    } else {
      // The controller sets currentRevision to updateRevision once every pod runs it.
      const currentRev = str(status["currentRevision"]);
      const updateRev = str(status["updateRevision"]);
      if (updateRev !== undefined && currentRev !== updateRev) {
        return progressing(Reason.LessUpdated, `${name}: ${updated} of ${want} replicas at revision ${updateRev}`);
      }
    }
  }
  return healthy(`${name}: ${ready} of ${want} replicas ready`);
}

export function replicaSetHealth(o: KubeObject): HealthResult {
  const spec = specOf(o);
  const status = statusOf(o);
  const name = nameOf(o);
  const failure = conditionOf(o, "ReplicaFailure");
  if (failure?.status === "True") {
    return degraded(failure.reason ?? "ReplicaFailure", `${name}: ${failure.message ?? "replica failure"}`);
  }
  const want = num(spec["replicas"], 1);
  const replicas = num(status["replicas"]);
  const ready = num(status["readyReplicas"]);
  const available = num(status["availableReplicas"]);
  if (replicas < want) return progressing(Reason.LessReplicas, `${name}: ${replicas} of ${want} replicas exist`);
  if (replicas > want) return progressing(Reason.ExtraPods, `${name}: ${replicas - want} extra pods pending termination`);
  if (ready < want) return progressing(Reason.LessReady, `${name}: ${ready} of ${want} replicas ready`);
  if (available < want) return progressing(Reason.LessAvailable, `${name}: ${available} of ${want} replicas available`);
  return healthy(`${name}: ${ready} of ${want} replicas ready`);
}
