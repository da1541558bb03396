// namePrefix / nameSuffix, and the PrefixTransformer / SuffixTransformer / PrefixSuffixTransformer
// plugins: the affix goes on every string field the field specs reach (kustomize's default spec
// is metadata/name alone; `configurations:` may add others). A metadata/name spec renames the
// object, which name references then follow. CRDs, APIServices and Namespaces keep their names,
// and a spec selects objects by the kind they were loaded as, as in kustomize.
import { PREFIX_SUFFIX_SKIP } from "../builtin-config.js";
import { walkFieldSpec, type FieldSpec } from "../field-spec.js";
import { gvkSelected, orgId, storePreviousId, type Resource } from "../resource.js";

export const NAME_FIELD = "metadata/name";
/** kustomize's default namePrefix / nameSuffix field specs. */
export const NAME_AFFIX_SPECS: readonly FieldSpec[] = Object.freeze([{ path: NAME_FIELD }]);

function skipped(r: Resource): boolean {
  const id = orgId(r);
  return PREFIX_SUFFIX_SKIP.some((s) => s.kind === id.kind && (s.group === undefined || s.group === id.group));
}

function applyAffix(resources: Resource[], affix: string, side: "prefix" | "suffix", specs: readonly FieldSpec[]): void {
  const add = (v: string) => (side === "prefix" ? affix + v : v + affix);
  for (const r of resources) {
    if (skipped(r)) continue;
    const id = orgId(r);
    for (const spec of specs) {
      if (!gvkSelected(id, spec)) continue;
      if (spec.path === NAME_FIELD) {
        if (affix === "") continue;
        storePreviousId(r);
        (side === "prefix" ? r.prefixes : r.suffixes).push(affix);
        r.obj.metadata.name = add(r.obj.metadata.name);
        continue;
      }
      walkFieldSpec(r.obj, spec, (parent, key) => {
        const v = parent[key];
        if (typeof v === "string") parent[key] = add(v);
      });
    }
  }
}

export function applyNamePrefix(resources: Resource[], prefix: string, specs: readonly FieldSpec[] = NAME_AFFIX_SPECS): void {
  applyAffix(resources, prefix, "prefix", specs);
}

export function applyNameSuffix(resources: Resource[], suffix: string, specs: readonly FieldSpec[] = NAME_AFFIX_SPECS): void {
  applyAffix(resources, suffix, "suffix", specs);
}
