// `namespace:` — sets metadata.namespace on namespaced objects, renames Namespace objects, and
// points RoleBinding subjects named "default" (the namespace's default ServiceAccount) at it.
// As in kustomize's namespace filter, a `metadata/name` field spec only ever applies to objects
// of apiVersion exactly `v1`: a custom resource that happens to be called `Namespace`
// (example.com/v1) keeps its name and gets a metadata.namespace like any namespaced object.
import { renderFailed } from "../errors.js";
import { walkFieldSpecs } from "../field-spec.js";
import { curId, idKey, storePreviousId, type Resource } from "../resource.js";
import { isClusterScoped } from "../scope.js";
import type { FieldSpec } from "../field-spec.js";
import { isPlainObject } from "../yaml-io.js";

/** kustomize's removeUnneededMetaFieldSpecs: the one apiVersion whose Namespace objects get renamed. */
const CORE_NAMESPACE_API_VERSION = "v1";

/** How RoleBinding / ClusterRoleBinding subjects follow the namespace (NamespaceTransformer's setRoleBindingSubjects). */
export type RoleBindingSubjects = "defaultOnly" | "allServiceAccounts" | "none";

export interface NamespaceOptions {
  /** Only set namespaces that are unset (NamespaceTransformer's unsetOnly). */
  unsetOnly?: boolean;
  roleBindingSubjects?: RoleBindingSubjects;
  /** The field named in errors (default `namespace`). */
  field?: string;
}

export function applyNamespace(
  resources: Resource[],
  namespace: string,
  specs: FieldSpec[],
  file: string,
  options: NamespaceOptions = {},
): void {
  const unsetOnly = options.unsetOnly ?? false;
  const subjects = options.roleBindingSubjects ?? "defaultOnly";
  const set = (node: Record<string, unknown>, key: string) => {
    if (unsetOnly && node[key] !== undefined && node[key] !== null && node[key] !== "") return;
    node[key] = namespace;
  };
  // metadata.namespace is set in the loop below, on namespaced kinds only; kustomize drops any field spec
  // for it (a configurations file cannot put a namespace on a cluster-scoped object).
  const all = specs.filter((s) => s.path !== "metadata/namespace");
  const withoutName = all.filter((s) => s.path !== "metadata/name");
  for (const r of resources) {
    storePreviousId(r);
    const id = curId(r);
    if (!isClusterScoped(id.group, id.kind)) set(r.obj.metadata as Record<string, unknown>, "namespace");
    if ((id.kind === "RoleBinding" || id.kind === "ClusterRoleBinding") && Array.isArray(r.obj.subjects) && subjects !== "none") {
      for (const s of r.obj.subjects) {
        if (!isPlainObject(s)) continue;
        if (subjects === "allServiceAccounts" ? s.kind === "ServiceAccount" : s.name === "default") set(s, "namespace");
      }
    }
    walkFieldSpecs(r.obj, r.obj.apiVersion === CORE_NAMESPACE_API_VERSION ? all : withoutName, (parent, key) => set(parent, key));
  }
  const seen = new Set<string>();
  for (const r of resources) {
    const id = curId(r);
    const key = idKey(id);
    if (seen.has(key)) {
      throw renderFailed(`namespace transformation produces an id conflict for ${id.kind} ${id.name}`, {
        file,
        field: options.field ?? "namespace",
      });
    }
    seen.add(key);
  }
}
