// Repairs references after renames (prefix, suffix, namespace, content hash): a Deployment that
// mounts ConfigMap "cfg" ends up mounting "prod-cfg-5gch97b56c". Candidates are found by any name
// they have had, narrowed like kustomize's nameref filter: kind, roleRef kind, namespace, and
// finally the prefixes/suffixes they share with the referrer.
import { NAME_REFERENCES, type NameReference } from "./builtin-config.js";
import { renderFailed } from "./errors.js";
import { specApplies, walkFieldSpec, type FieldSpec } from "./field-spec.js";
import {
  allIds,
  curId,
  describeId,
  effectiveNamespace,
  gvkSelected,
  orgId,
  type GvkSelector,
  type Resource,
} from "./resource.js";
import { isClusterScoped } from "./scope.js";
import { isPlainObject } from "./yaml-io.js";

export function fixNameReferences(resources: Resource[], file: string): void {
  for (const nr of NAME_REFERENCES) {
    for (const referrer of resources) {
      for (const spec of nr.referrers) {
        if (!specApplies(referrer.obj, spec)) continue;
        const fixer = new ReferenceFixer(nr, spec, referrer, couldBeReferencedBy(resources, referrer), file);
        walkFieldSpec(referrer.obj, { ...spec, create: false }, (parent, key) => fixer.fix(parent, key));
      }
    }
  }
}

/** kustomize's SubsetThatCouldBeReferencedByResource. */
function couldBeReferencedBy(resources: Resource[], referrer: Resource): Resource[] {
  const rid = curId(referrer);
  if (isClusterScoped(rid.group, rid.kind)) return resources;
  const bindingNamespaces = new Set<string>();
  if (rid.kind === "RoleBinding" && Array.isArray(referrer.obj.subjects)) {
    for (const s of referrer.obj.subjects) {
      if (isPlainObject(s) && s.kind === "ServiceAccount" && typeof s.namespace === "string") bindingNamespaces.add(s.namespace);
    }
  }
  return resources.filter((t) => {
    const tid = curId(t);
    if (isClusterScoped(tid.group, tid.kind)) return true;
    if (effectiveNamespace(tid) === effectiveNamespace(rid)) return true;
    return bindingNamespaces.has(tid.namespace);
  });
}

function sameEndingSubarray(a: string[], b: string[]): boolean {
  const [shortest, longest] = a.length <= b.length ? [a, b] : [b, a];
  const diff = longest.length - shortest.length;
  if (shortest.length === 0) return diff === 0;
  for (let i = shortest.length - 1; i >= 0; i--) if (longest[i + diff] !== shortest[i]) return false;
  return true;
}

class ReferenceFixer {
  constructor(
    readonly nr: NameReference,
    readonly spec: FieldSpec,
    readonly referrer: Resource,
    readonly candidates: Resource[],
    readonly file: string,
  ) {}

  fix(parent: Record<string, unknown>, key: string): void {
    const v = parent[key];
    if (typeof v === "string") {
      const referral = this.select(v, this.candidates, false);
      if (referral && referral.obj.metadata.name !== v) parent[key] = referral.obj.metadata.name;
    } else if (isPlainObject(v)) {
      this.fixMapping(v);
    } else if (Array.isArray(v)) {
      v.forEach((el, i) => {
        if (typeof el === "string") {
          const referral = this.select(el, this.candidates, false);
          if (referral) v[i] = referral.obj.metadata.name;
        } else if (isPlainObject(el)) this.fixMapping(el);
      });
    }
  }

  private fixMapping(node: Record<string, unknown>): void {
    const oldName = node.name;
    if (typeof oldName !== "string") return;
    let candidates = this.candidates;
    if (typeof node.namespace === "string") {
      const ns = node.namespace;
      // kustomize groups candidates by effective namespace: unset means "default".
      const byOriginal = candidates.filter((c) => effectiveNamespace(orgId(c)) === ns);
      candidates = byOriginal.length > 0 ? byOriginal : candidates.filter((c) => effectiveNamespace(curId(c)) === ns);
    }
    const referral = this.select(oldName, candidates, true);
    if (!referral) return;
    const ns = referral.obj.metadata.namespace ?? "";
    if (referral.obj.metadata.name === oldName && ns === "") return;
    node.name = referral.obj.metadata.name;
    if (ns !== "") node.namespace = ns;
  }

  private select(oldName: string, input: Resource[], compareNamespaces: boolean): Resource | undefined {
    const target: GvkSelector = this.nr.target;
    let c = input.filter((r) => allIds(r).some((id) => id.name === oldName));
    c = c.filter((r) => allIds(r).some((id) => gvkSelected(id, target)));
    if (this.spec.path.endsWith("roleRef/name")) {
      const roleRef = this.referrer.obj.roleRef;
      if (isPlainObject(roleRef) && typeof roleRef.apiGroup === "string" && typeof roleRef.kind === "string") {
        const sel = { group: roleRef.apiGroup, kind: roleRef.kind };
        c = c.filter((r) => allIds(r).some((id) => gvkSelected(id, sel)));
      }
    }
    const rid = curId(this.referrer);
    if (!isClusterScoped(rid.group, rid.kind)) {
      c = c.filter((r) => {
        const id = curId(r);
        return isClusterScoped(id.group, id.kind) || id.kind === "ServiceAccount" || effectiveNamespace(id) === effectiveNamespace(rid);
      });
    }
    if (c.length === 1) return c[0];
    c = c.filter((r) => sameEndingSubarray(r.prefixes, this.referrer.prefixes) && sameEndingSubarray(r.suffixes, this.referrer.suffixes));
    if (c.length === 1) return c[0];
    if (c.length === 0) return undefined;
    const first = c[0] as Resource;
    const identical = c.every(
      (r) =>
        r.obj.metadata.name === first.obj.metadata.name &&
        (!compareNamespaces || (r.obj.metadata.namespace ?? "") === (first.obj.metadata.namespace ?? "")),
    );
    if (identical) return first;
    throw renderFailed(
      `${describeId(rid)} refers to "${oldName}" at ${this.spec.path}, which matches several objects: ${c
        .map((r) => describeId(curId(r)))
        .join(", ")}`,
      { file: this.file },
    );
  }
}
