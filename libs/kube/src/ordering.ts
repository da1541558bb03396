// Apply order: stages, then a fixed kind order inside a stage. Prune uses the reverse. Pure.
//
// Stage 0: CRDs and Namespaces (later objects need them; CRDs must be Established first).
// Stage 1: other cluster-scoped objects (ClusterRoles, StorageClasses, webhooks…).
// Stage 2: namespaced objects.
// Inside a stage, dependencies come first: identities and config before the workloads that use
// them, Role before RoleBinding; kinds not listed (custom resources) go last.
import type { ObjectRef } from "@flotilla/model";

const kindOrder = [
  "CustomResourceDefinition",
  "Namespace",
  "ResourceQuota",
  "LimitRange",
  "PriorityClass",
  "StorageClass",
  "PersistentVolume",
  "ClusterRole",
  "ClusterRoleBinding",
  "NetworkPolicy",
  "PodDisruptionBudget",
  "ServiceAccount",
  "Secret",
  "ConfigMap",
  "PersistentVolumeClaim",
  "Role",
  "RoleBinding",
  "Service",
  "Endpoints",
  "EndpointSlice",
  "DaemonSet",
  "Pod",
  "ReplicationController",
  "ReplicaSet",
  "Deployment",
  "StatefulSet",
  "HorizontalPodAutoscaler",
  "Job",
  "CronJob",
  "IngressClass",
  "Ingress",
  "APIService",
  "MutatingWebhookConfiguration",
  "ValidatingWebhookConfiguration",
];
const rank = new Map(kindOrder.map((k, i) => [k, i]));

export const Stage = { Definitions: 0, ClusterScoped: 1, Namespaced: 2 } as const;
export type Stage = (typeof Stage)[keyof typeof Stage];

export function stageOf(ref: ObjectRef): Stage {
  if (ref.group === "apiextensions.k8s.io" && ref.kind === "CustomResourceDefinition") return Stage.Definitions;
  if (ref.group === "" && ref.kind === "Namespace") return Stage.Definitions;
  return ref.namespace === "" ? Stage.ClusterScoped : Stage.Namespaced;
}

function kindRank(ref: ObjectRef): number {
  return rank.get(ref.kind) ?? kindOrder.length;
}

/** Comparator for apply order; ties keep the caller's order (Array.prototype.sort is stable). */
export function compareApplyOrder(a: ObjectRef, b: ObjectRef): number {
  return stageOf(a) - stageOf(b) || kindRank(a) - kindRank(b);
}

/** Items in apply order (a new array; stable). */
export function sortForApply<T>(items: readonly T[], refOfItem: (t: T) => ObjectRef): T[] {
  return [...items].sort((a, b) => compareApplyOrder(refOfItem(a), refOfItem(b)));
}

/** Items in prune order: the reverse of apply order. */
export function sortForPrune<T>(items: readonly T[], refOfItem: (t: T) => ObjectRef): T[] {
  return sortForApply(items, refOfItem).reverse();
}
