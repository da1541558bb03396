// computeHealth: a pure function of one full object (kstatus rules mapped onto Flotilla's Health).
//   kstatus Current → Healthy, InProgress → Progressing, Failed → Degraded,
//   Terminating → Progressing (reason Terminating), NotFound → Missing.
import type { KubeObject } from "@flotilla/model";
import { Health, Reason, groupOf } from "@flotilla/model";
import { nameOf } from "./fields.js";
import { cronJobHealth, jobHealth } from "./kinds/jobs.js";
import { crdHealth, namespaceHealth, pvcHealth, serviceHealth } from "./kinds/cluster-objects.js";
import { apiServiceHealth } from "./kinds/apiservice.js";
import { customResourceHealth } from "./kinds/custom-resource.js";
import { deploymentHealth } from "./kinds/deployment.js";
import { generationNotObserved } from "./kinds/generation.js";
import { horizontalPodAutoscalerHealth } from "./kinds/horizontal-pod-autoscaler.js";
import { ingressHealth } from "./kinds/ingress.js";
import { podHealth } from "./kinds/pod.js";
import { podDisruptionBudgetHealth } from "./kinds/pod-disruption-budget.js";
import { daemonSetHealth } from "./kinds/daemonset.js";
import { replicaSetHealth, statefulSetHealth } from "./kinds/replica-sets.js";
import { healthy, progressing, type HealthResult } from "./result.js";

type Rule = (o: KubeObject) => HealthResult;

/** Rules for built-in kinds, keyed by `group/Kind` (empty group = core). */
const builtIn: Record<string, Rule> = {
  "apps/Deployment": deploymentHealth,
  "apps/StatefulSet": statefulSetHealth,
  "apps/DaemonSet": daemonSetHealth,
  "apps/ReplicaSet": replicaSetHealth,
  "/Pod": podHealth,
  "batch/Job": jobHealth,
  "batch/CronJob": cronJobHealth,
  "/PersistentVolumeClaim": pvcHealth,
  "/Service": serviceHealth,
  "/Namespace": namespaceHealth,
  "apiextensions.k8s.io/CustomResourceDefinition": crdHealth,
  "apiregistration.k8s.io/APIService": apiServiceHealth,
  "autoscaling/HorizontalPodAutoscaler": horizontalPodAutoscalerHealth,
  "networking.k8s.io/Ingress": ingressHealth,
  "policy/PodDisruptionBudget": podDisruptionBudgetHealth,
};

/** Kubernetes' own API groups: their kinds without a rule are healthy once they exist. Anything
 * else is a custom resource and is judged by its conditions. */
const builtInGroups = new Set([
  "", "apps", "batch", "autoscaling", "policy", "networking.k8s.io", "rbac.authorization.k8s.io",
  "storage.k8s.io", "scheduling.k8s.io", "coordination.k8s.io", "discovery.k8s.io", "node.k8s.io",
  "admissionregistration.k8s.io", "apiextensions.k8s.io", "apiregistration.k8s.io",
  "certificates.k8s.io", "flowcontrol.apiserver.k8s.io", "events.k8s.io", "resource.k8s.io",
]);
const builtInGroup = (group: string): boolean => builtInGroups.has(group);

/** Health of one object; `undefined` (the object does not exist) is Missing. */
export function computeHealth(o: KubeObject | undefined): HealthResult {
  if (o === undefined) return { health: Health.Missing, reason: Reason.NotFound, message: "object does not exist" };

  if (o.metadata["deletionTimestamp"] !== undefined) return progressing(Reason.Terminating, `${nameOf(o)} is being deleted`);

  // Before any kind rule and before "healthy once it exists": a status the controller wrote for
  // an older generation says nothing about the current spec, whatever the kind.
  const stale = generationNotObserved(o);
  if (stale) return stale;

  const group = groupOf(o.apiVersion);
  const rule = builtIn[`${group}/${o.kind}`];
  if (rule === undefined && builtInGroup(group)) return healthy(`${nameOf(o)} exists`);
  return (rule ?? customResourceHealth)(o);
}
