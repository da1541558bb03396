// HorizontalPodAutoscaler: judged by its conditions, as Argo CD does.
//
// - AbleToScale=False: the controller cannot read or update its target's scale (FailedGetScale,
//   FailedUpdateScale) → Degraded. Backoff* reasons (older controllers: it just scaled and waits)
//   are a pause, not a failure → Progressing.
// - ScalingActive=False with a failure reason (FailedGet*Metric, FailedCompute*, InvalidSelector,
//   InvalidMetricSourceType…) → Degraded: it is not autoscaling at all. ScalingDisabled (the target
//   was scaled to zero on purpose) is not a failure.
// - ScalingLimited=True (held at min or max replicas) is the autoscaler working as configured.
// - No conditions yet: the controller has not processed it → Progressing.
// autoscaling/v1 objects carry the conditions only in an annotation; those are read too.
import type { KubeObject } from "@flotilla/model";
import { Reason } from "@flotilla/model";
import { conditionsOf, nameOf, toConditions, type Condition } from "../fields.js";
import { HealthReason } from "../reasons.js";
import { degraded, healthy, progressing, type HealthResult } from "../result.js";

const v1ConditionsAnnotation = "autoscaling.alpha.kubernetes.io/conditions";

function hpaConditions(o: KubeObject): Condition[] {
  const fromStatus = conditionsOf(o);
  if (fromStatus.length > 0) return fromStatus;
  const raw = o.metadata.annotations?.[v1ConditionsAnnotation];
  if (raw === undefined) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return [];
  }
  return toConditions(parsed);
}

const isFailureReason = (reason: string | undefined): boolean =>
  reason === undefined || /^(Failed|Invalid)/.test(reason);

export function horizontalPodAutoscalerHealth(o: KubeObject): HealthResult {
  const name = nameOf(o);
  const conditions = hpaConditions(o);
  if (conditions.length === 0) return progressing(Reason.InProgress, `${name}: waiting for the autoscaler to report`);
  const find = (type: string): Condition | undefined => conditions.find((c) => c.type === type);
  const why = (c: Condition): string => [c.reason, c.message].filter(Boolean).join(": ");

  const able = find("AbleToScale");
  if (able?.status === "False") {
    if (able.reason?.startsWith("Backoff")) return progressing(Reason.InProgress, `${name}: backing off after a rescale: ${why(able)}`);
    return degraded(HealthReason.ScalingFailed, `${name} cannot scale its target: ${why(able)}`);
  }
  const active = find("ScalingActive");
  if (active?.status === "False" && isFailureReason(active.reason)) {
    return degraded(HealthReason.ScalingFailed, `${name} is not autoscaling: ${why(active)}`);
  }
  const limited = find("ScalingLimited");
  if (limited?.status === "True") return healthy(`${name} is autoscaling, limited: ${why(limited)}`);
  if (active?.status === "False") return healthy(`${name}: ${why(active)}`);
  return healthy(`${name} is autoscaling`);
}
