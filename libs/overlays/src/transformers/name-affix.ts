// namePrefix / nameSuffix. CRDs, APIServices and Namespaces keep their names, as in kustomize.
import { PREFIX_SUFFIX_SKIP } from "../builtin-config.js";
import { orgId, storePreviousId, type Resource } from "../resource.js";

function skipped(r: Resource): boolean {
  const id = orgId(r);
  return PREFIX_SUFFIX_SKIP.some((s) => s.kind === id.kind && (s.group === undefined || s.group === id.group));
}

export function applyNamePrefix(resources: Resource[], prefix: string): void {
  for (const r of resources) {
    if (skipped(r)) continue;
    storePreviousId(r);
    r.prefixes.push(prefix);
    r.obj.metadata.name = prefix + r.obj.metadata.name;
  }
}

export function applyNameSuffix(resources: Resource[], suffix: string): void {
  for (const r of resources) {
    if (skipped(r)) continue;
    storePreviousId(r);
    r.suffixes.push(suffix);
    r.obj.metadata.name = r.obj.metadata.name + suffix;
  }
}
