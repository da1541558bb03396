// PVC, Service, CRD and Namespace: objects whose readiness is one status field or condition.
import type { KubeObject } from "@flotilla/model";
import { Reason } from "@flotilla/model";
import { arr, conditionOf, nameOf, obj, specOf, statusOf, str } from "../fields.js";
import { degraded, healthy, progressing, type HealthResult } from "../result.js";

export function pvcHealth(o: KubeObject): HealthResult {
  const name = nameOf(o);
  const phase = str(statusOf(o)["phase"]);
  if (phase === "Bound") return healthy(`${name} is bound`);
  if (phase === "Lost") return degraded(Reason.NotBound, `${name} lost its volume`);
  return progressing(Reason.NotBound, `${name} is ${phase ?? "not yet"} bound`);
}

export function serviceHealth(o: KubeObject): HealthResult {
  const name = nameOf(o);
  if (str(specOf(o)["type"]) !== "LoadBalancer") return healthy(`${name} exists`);
  const ingress = arr(obj(statusOf(o)["loadBalancer"])["ingress"]);
  if (ingress.length === 0) return progressing(Reason.LoadBalancerPending, `${name}: load balancer has no ingress yet`);
  return healthy(`${name}: load balancer ready`);
}

export function crdHealth(o: KubeObject): HealthResult {
  const name = nameOf(o);
  const names = conditionOf(o, "NamesAccepted");
  if (names?.status === "False") return degraded(Reason.NamesNotAccepted, `${name}: names not accepted: ${names.message ?? ""}`.trim());
  const established = conditionOf(o, "Established");
  if (established?.status === "True") return healthy(`${name} is established`);
  return progressing(Reason.NotEstablished, `${name} is not yet established`);
}

export function namespaceHealth(o: KubeObject): HealthResult {
  const name = nameOf(o);
  if (str(statusOf(o)["phase"]) === "Terminating") return progressing(Reason.Terminating, `${name} is terminating`);
  return healthy(`${name} is active`);
}
