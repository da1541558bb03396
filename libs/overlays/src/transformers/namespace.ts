// `namespace:` — sets metadata.namespace on namespaced objects, renames Namespace objects, and
// points RoleBinding subjects named "default" (the namespace's default ServiceAccount) at it.
import { renderFailed } from "../errors.js";
import { walkFieldSpecs } from "../field-spec.js";
import { curId, idKey, storePreviousId, type Resource } from "../resource.js";
import { isClusterScoped } from "../scope.js";
import type { FieldSpec } from "../field-spec.js";
import { isPlainObject } from "../yaml-io.js";

export function applyNamespace(resources: Resource[], namespace: string, specs: FieldSpec[], file: string): void {
  for (const r of resources) {
    storePreviousId(r);
    const id = curId(r);
    if (!isClusterScoped(id.group, id.kind)) r.obj.metadata.namespace = namespace;
    if ((id.kind === "RoleBinding" || id.kind === "ClusterRoleBinding") && Array.isArray(r.obj.subjects)) {
      for (const s of r.obj.subjects) {
        if (isPlainObject(s) && s.name === "default") s.namespace = namespace;
      }
    }
    walkFieldSpecs(r.obj, specs, (parent, key) => {
      parent[key] = namespace;
    });
  }
  const seen = new Set<string>();
  for (const r of resources) {
    const id = curId(r);
    const key = idKey(id);
    if (seen.has(key)) {
      throw renderFailed(`namespace transformation produces an id conflict for ${id.kind} ${id.name}`, {
        file,
        field: "namespace",
      });
    }
    seen.add(key);
  }
}
