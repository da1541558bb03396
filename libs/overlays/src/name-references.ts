// Repairs references after renames (prefix, suffix, namespace, content hash): a Deployment that
// mounts ConfigMap "cfg" ends up mounting "prod-cfg-5gch97b56c". Candidates are found by any name
// they have had, narrowed like kustomize's nameref filter: kind, roleRef kind, namespace, and
// finally the prefixes/suffixes they share with the referrer.
import type { NameReference } from "./builtin-config.js";
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
  type ResId,
  type Resource,
} from "./resource.js";
import { isClusterScoped } from "./scope.js";
import { isPlainObject } from "./yaml-io.js";

export function fixNameReferences(resources: Resource[], nameReferences: NameReference[], file: string): void {
  // Names do not change while references are repaired, so ids and a name index are computed once.
  const index = new BuildIndex(resources);
  for (const nr of nameReferences) {
    for (const referrer of resources) {
      for (const spec of nr.referrers) {
        if (!specApplies(referrer.obj, spec)) continue;
        const fixer = new ReferenceFixer(nr, spec, referrer, index, file);
        walkFieldSpec(referrer.obj, { ...spec, create: false }, (parent, key) => fixer.fix(parent, key));
      }
    }
  }
}

interface Info {
  cur: ResId;
  org: ResId;
  ids: ResId[];
  clusterScoped: boolean;
  effectiveNs: string;
}

class BuildIndex {
  readonly info = new Map<Resource, Info>();
  readonly byName = new Map<string, Resource[]>();
  private readonly referable = new Map<Resource, (t: Resource) => boolean>();

  constructor(resources: Resource[]) {
    for (const r of resources) {
      const cur = curId(r);
      const ids = allIds(r);
      this.info.set(r, { cur, org: orgId(r), ids, clusterScoped: isClusterScoped(cur.group, cur.kind), effectiveNs: effectiveNamespace(cur) });
      for (const name of new Set(ids.map((id) => id.name))) {
        const list = this.byName.get(name);
        if (list) list.push(r);
        else this.byName.set(name, [r]);
      }
    }
  }

  get(r: Resource): Info {
    return this.info.get(r) as Info;
  }

  /** kustomize's SubsetThatCouldBeReferencedByResource, as a predicate. */
  couldBeReferencedBy(referrer: Resource): (t: Resource) => boolean {
    const cached = this.referable.get(referrer);
    if (cached) return cached;
    const rinfo = this.get(referrer);
    let pred: (t: Resource) => boolean;
    if (rinfo.clusterScoped) pred = () => true;
    else {
      const bindingNamespaces = new Set<string>();
      if (rinfo.cur.kind === "RoleBinding" && Array.isArray(referrer.obj.subjects)) {
        for (const s of referrer.obj.subjects) {
          if (isPlainObject(s) && s.kind === "ServiceAccount" && typeof s.namespace === "string") bindingNamespaces.add(s.namespace);
        }
      }
      pred = (t) => {
        const tinfo = this.get(t);
        return tinfo.clusterScoped || tinfo.effectiveNs === rinfo.effectiveNs || bindingNamespaces.has(tinfo.cur.namespace);
      };
    }
    this.referable.set(referrer, pred);
    return pred;
  }
}

function sameEndingSubarray(a: string[], b: string[]): boolean {
  const [shortest, longest] = a.length <= b.length ? [a, b] : [b, a];
  const diff = longest.length - shortest.length;
  if (shortest.length === 0) return diff === 0;
  for (let i = shortest.length - 1; i >= 0; i--) if (longest[i + diff] !== shortest[i]) return false;
  return true;
}

class ReferenceFixer {
  private readonly referable: (t: Resource) => boolean;

  constructor(
    readonly nr: NameReference,
    readonly spec: FieldSpec,
    readonly referrer: Resource,
    readonly index: BuildIndex,
    readonly file: string,
  ) {
    this.referable = index.couldBeReferencedBy(referrer);
  }

  fix(parent: Record<string, unknown>, key: string): void {
    const v = parent[key];
    if (typeof v === "string") {
      const referral = this.select(v, undefined, false);
      if (referral && referral.obj.metadata.name !== v) parent[key] = referral.obj.metadata.name;
    } else if (isPlainObject(v)) {
      this.fixMapping(v);
    } else if (Array.isArray(v)) {
      v.forEach((el, i) => {
        if (typeof el === "string") {
          const referral = this.select(el, undefined, false);
          if (referral) v[i] = referral.obj.metadata.name;
        } else if (isPlainObject(el)) this.fixMapping(el);
      });
    }
  }

  private fixMapping(node: Record<string, unknown>): void {
    const oldName = node.name;
    if (typeof oldName !== "string") return;
    let nsFilter: ((r: Resource) => boolean) | undefined;
    if (typeof node.namespace === "string") {
      const ns = node.namespace;
      // kustomize groups candidates by effective namespace (unset means "default"): original
      // namespace first, current namespace when no candidate had it originally.
      const byOriginal = [...this.index.info.keys()].some(
        (c) => this.referable(c) && effectiveNamespace(this.index.get(c).org) === ns,
      );
      nsFilter = byOriginal
        ? (c) => effectiveNamespace(this.index.get(c).org) === ns
        : (c) => this.index.get(c).effectiveNs === ns;
    }
    const referral = this.select(oldName, nsFilter, true);
    if (!referral) return;
    const ns = referral.obj.metadata.namespace ?? "";
    if (referral.obj.metadata.name === oldName && ns === "") return;
    node.name = referral.obj.metadata.name;
    if (ns !== "") node.namespace = ns;
  }

  private select(oldName: string, nsFilter: ((r: Resource) => boolean) | undefined, compareNamespaces: boolean): Resource | undefined {
    const target: GvkSelector = this.nr.target;
    const info = (r: Resource) => this.index.get(r);
    let c = (this.index.byName.get(oldName) ?? []).filter(this.referable);
    if (nsFilter) c = c.filter(nsFilter);
    c = c.filter((r) => info(r).ids.some((id) => gvkSelected(id, target)));
    if (this.spec.path.endsWith("roleRef/name")) {
      const roleRef = this.referrer.obj.roleRef;
      if (isPlainObject(roleRef) && typeof roleRef.apiGroup === "string" && typeof roleRef.kind === "string") {
        const sel = { group: roleRef.apiGroup, kind: roleRef.kind };
        c = c.filter((r) => info(r).ids.some((id) => gvkSelected(id, sel)));
      }
    }
    const rinfo = info(this.referrer);
    if (!rinfo.clusterScoped) {
      c = c.filter((r) => {
        const i = info(r);
        return i.clusterScoped || i.cur.kind === "ServiceAccount" || i.effectiveNs === rinfo.effectiveNs;
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
      `${describeId(rinfo.cur)} refers to "${oldName}" at ${this.spec.path}, which matches several objects: ${c
        .map((r) => describeId(info(r).cur))
        .join(", ")}`,
      { file: this.file },
    );
  }
}
