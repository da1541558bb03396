// commonLabels, labels (with includeSelectors / includeTemplates) and commonAnnotations: set
// key/value pairs in every map the field specs reach.
import { renderFailed } from "../errors.js";
import { walkFieldSpecs, type FieldSpec } from "../field-spec.js";
import type { LabelEntry } from "../kustomization.js";
import type { Resource } from "../resource.js";
import type { TransformerConfig } from "../transformer-config.js";
import { isPlainObject } from "../yaml-io.js";

/** Sets every pair in every map the field specs reach (creating maps where a spec says create). */
export function setPairs(resources: Resource[], pairs: Record<string, string>, specs: FieldSpec[], file: string, field: string): void {
  const keys = Object.keys(pairs).sort();
  if (keys.length === 0) return;
  for (const r of resources) {
    for (const k of keys) {
      const value = pairs[k] as string;
      const maps = new Map<string, Record<string, unknown>>();
      const created = new Set<string>();
      walkFieldSpecs(r.obj, specs, (parent, key, spec, at) => {
        let map = parent[key];
        if (map === undefined || map === null) {
          map = {};
          parent[key] = map;
        }
        if (!isPlainObject(map)) {
          throw renderFailed(`${r.obj.kind} ${r.obj.metadata.name}: ${spec.path} is not a map, cannot add ${field}`, { file, field });
        }
        maps.set(at, map);
        if (map[k] === undefined) {
          created.add(at);
        } else {
          // An in-place update: every location sharing this value with `at` changes too.
          for (const group of r.sharedValues.get(k) ?? []) {
            if (!group.has(at)) continue;
            for (const other of group) setAt(r, other, k, value);
          }
        }
        map[k] = value;
      });
      if (created.size > 1) {
        const groups = r.sharedValues.get(k) ?? [];
        groups.push(created);
        r.sharedValues.set(k, groups);
      }
    }
  }
}

/** Sets `key` in the map at `at` (a `/`-separated location) if that map still holds it. */
function setAt(r: Resource, at: string, key: string, value: string): void {
  let node: unknown = r.obj;
  for (const seg of at.split("/")) {
    if (Array.isArray(node)) node = node[Number(seg)];
    else if (isPlainObject(node)) node = node[seg];
    else return;
  }
  if (isPlainObject(node) && node[key] !== undefined) node[key] = value;
}

export function labelSpecs(entry: LabelEntry, config: TransformerConfig): FieldSpec[] {
  const specs = [...entry.fields];
  if (entry.includeSelectors) specs.push(...config.commonLabels);
  else {
    specs.push({ path: "metadata/labels", create: true });
    if (entry.includeTemplates) specs.push(...config.templateLabels);
  }
  return specs;
}

export function applyLabels(
  resources: Resource[],
  labels: LabelEntry[],
  commonLabels: Record<string, string>,
  config: TransformerConfig,
  file: string,
): void {
  labels.forEach((entry, i) => setPairs(resources, entry.pairs, labelSpecs(entry, config), file, `labels[${i}]`));
  setPairs(resources, commonLabels, config.commonLabels, file, "commonLabels");
}

export function applyAnnotations(resources: Resource[], annotations: Record<string, string>, config: TransformerConfig, file: string): void {
  setPairs(resources, annotations, config.commonAnnotations, file, "commonAnnotations");
}
