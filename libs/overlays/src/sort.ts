// kustomize's default output order ("legacy"): by kind priority, then group_version_kind, then
// namespace and name. Byte-wise string comparison, as Go does.
import type { SortOptions } from "./kustomization.js";
import { curId, type ResId, type Resource } from "./resource.js";

export const DEFAULT_ORDER_FIRST = [
  "Namespace",
  "ResourceQuota",
  "StorageClass",
  "CustomResourceDefinition",
  "ServiceAccount",
  "PodSecurityPolicy",
  "Role",
  "ClusterRole",
  "RoleBinding",
  "ClusterRoleBinding",
  "ConfigMap",
  "Secret",
  "Endpoints",
  "Service",
  "LimitRange",
  "PriorityClass",
  "PersistentVolume",
  "PersistentVolumeClaim",
  "Deployment",
  "StatefulSet",
  "CronJob",
  "PodDisruptionBudget",
];
export const DEFAULT_ORDER_LAST = ["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"];

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function gvkSortString(id: ResId): string {
  return [id.group || "~G", id.version || "~V", id.kind || "~K"].join("_");
}

function idSortString(id: ResId): string {
  const gvk = [id.kind || "[noKind]", id.version || "[noVer]", id.group || "[noGrp]"].join(".");
  return [gvk, id.namespace || "~X", id.name || "~N"].join("|");
}

export function sortResources(resources: Resource[], options?: SortOptions): Resource[] {
  if (options?.order === "fifo") return resources;
  const first = options?.orderFirst ?? DEFAULT_ORDER_FIRST;
  const last = options?.orderLast ?? DEFAULT_ORDER_LAST;
  const rank = new Map<string, number>();
  first.forEach((k, i) => rank.set(k, -first.length + i));
  last.forEach((k, i) => rank.set(k, 1 + i));
  const keyed = resources.map((r) => ({ r, id: curId(r) }));
  keyed.sort((x, y) => {
    const a = x.id;
    const b = y.id;
    const sameGvk = a.group === b.group && a.version === b.version && a.kind === b.kind;
    if (!sameGvk) {
      const ra = rank.get(a.kind) ?? 0;
      const rb = rank.get(b.kind) ?? 0;
      if (ra !== rb) return ra - rb;
      if (a.kind === "Namespace" && b.kind === "Namespace" && (a.group === "" || b.group === "")) {
        return -cmp(gvkSortString(a), gvkSortString(b));
      }
      return cmp(gvkSortString(a), gvkSortString(b));
    }
    return cmp(idSortString(a), idSortString(b));
  });
  return keyed.map((k) => k.r);
}
