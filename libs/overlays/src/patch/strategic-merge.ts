// Strategic merge patch, with the semantics kustomize v5 gives it (kyaml's merge2 with new list
// items prepended), plus the Kubernetes directives kustomize leaves unimplemented:
// - maps merge key by key; `null` removes a key; `$patch: delete` removes a map, `$patch: replace`
//   replaces it with the rest of the patch map;
// - lists with merge keys (see merge-schema.ts) merge element by element: patch elements come
//   first in patch order, then the target's other elements; an element `{<key>: v, $patch: delete}`
//   removes it; a lone element `{$patch: replace}` makes the rest of the patch list replace the
//   list, `{$patch: delete}` removes the list; lists of scalars with a merge strategy are sets;
//   when some patch element lacks the merge key, kustomize keeps only the patch's keyed elements
//   and loses all others (see mergeBySingleKey): so do we;
// - lists keyed on several fields (container ports: containerPort + protocol) merge in place when
//   all key fields agree, new elements prepended; a patch element that agrees with an element
//   only on the key fields both set is ignored, as kustomize ignores it;
// - every other list, and every list of a kind we have no schema for, is replaced by the patch's
//   list as written (directives inside it included, as kustomize does);
// - `$retainKeys` drops the fields it does not name, `$deleteFromPrimitiveList/<field>` removes
//   values from a list of scalars, `$setElementOrder/<field>` is accepted and ignored (kustomize
//   copies these three into its output; the API server would reject that).

import { PatchError } from "./patch-error.js";
import { cloneJson, isMap, jsonEqual, setKey, type JsonMap, type KubeObject } from "./kube-object.js";
import { BUILTIN_SCHEMAS, fieldOf, type FieldSchema, type MergeSchemas, type TypeSchema } from "./merge-schema.js";

export interface StrategicMergeOptions {
  /** Keep the patch's metadata.name / namespace instead of the target's (kustomize's allowNameChange). */
  allowNameChange?: boolean;
  /** Keep the patch's kind instead of the target's (kustomize's allowKindChange). */
  allowKindChange?: boolean;
  /** Where list merge keys come from: the built-in kinds' (default) or an `openapi:` schema's. */
  schemas?: MergeSchemas;
}

const DIRECTIVE = "$patch";
const RETAIN_KEYS = "$retainKeys";
const DELETE_FROM_PRIMITIVE_LIST = "$deleteFromPrimitiveList/";
const SET_ELEMENT_ORDER = "$setElementOrder/";

/** Marks a value the patch removes. */
const ABSENT = Symbol("absent");
type Merged = unknown | typeof ABSENT;

/** True when the patch, applied at the root, removes the whole object (`$patch: delete`). */
export function isDeletePatch(patch: Record<string, unknown>): boolean {
  return patch[DIRECTIVE] === "delete";
}

/**
 * Applies a strategic merge patch to a copy of `target` and returns it. The target's kind, name
 * and namespace are kept (as kustomize keeps them) unless the options allow a change. A patch
 * whose root is `$patch: delete` removes the object: callers check isDeletePatch() first, and
 * this function throws for it because there is no object to return.
 */
export function applyStrategicMergePatch(
  target: KubeObject,
  patch: Record<string, unknown>,
  options: StrategicMergeOptions = {},
): KubeObject {
  if (!isMap(patch)) throw new PatchError("a strategic merge patch must be a map", { op: DIRECTIVE });
  const rootDirective = patch[DIRECTIVE];
  if (rootDirective === "delete") {
    throw new PatchError(
      `the patch deletes ${target.kind} ${target.metadata.name} ($patch: delete at its root); remove the object instead of patching it`,
      { op: DIRECTIVE, path: "/" },
    );
  }
  // kustomize (v5.5) leaves the object untouched when the root says `$patch: replace`.
  if (rootDirective === "replace") return cloneJson(target);
  checkDirective(rootDirective, "");
  const schema = (options.schemas ?? BUILTIN_SCHEMAS).rootFor(target.apiVersion, target.kind);
  const merged = mergeMap(target, patch, schema, "") as KubeObject;
  if (!options.allowKindChange) merged.kind = target.kind;
  if (!isMap(merged.metadata)) merged.metadata = { name: target.metadata.name };
  if (!options.allowNameChange) {
    merged.metadata.name = target.metadata.name;
    if (target.metadata.namespace === undefined) delete merged.metadata.namespace;
    else merged.metadata.namespace = target.metadata.namespace;
  }
  return merged;
}

function checkDirective(d: unknown, path: string): void {
  if (d !== undefined && d !== "merge" && d !== "replace" && d !== "delete") {
    throw new PatchError(`unknown patch directive ${JSON.stringify(d)} at ${path || "/"}`, { op: DIRECTIVE, path: path || "/" });
  }
}

/** Merges a patch value into a target value (either may be missing). */
function mergeValue(target: unknown, patch: unknown, field: FieldSchema | undefined, path: string): Merged {
  if (patch === null) return ABSENT;
  if (isMap(patch)) {
    const directive = patch[DIRECTIVE];
    checkDirective(directive, path);
    if (directive === "delete") return ABSENT;
    if (directive === "replace") return mergeMap({}, patch, field?.type, path);
    if (!isMap(target)) {
      // New content: walked against nothing, so nulls and directives inside it disappear. A map
      // that only held nulls vanishes with them (kyaml does the same).
      const fresh = mergeMap({}, patch, field?.type, path);
      return Object.keys(fresh).length === 0 && hasPlainKeys(patch) ? ABSENT : fresh;
    }
    return mergeMap(target, patch, field?.type, path);
  }
  if (Array.isArray(patch)) {
    if (field?.mergeKeys === undefined) return cloneJson(patch);
    return mergeList(Array.isArray(target) ? target : [], patch, field, path);
  }
  return patch;
}

function hasPlainKeys(m: JsonMap): boolean {
  return Object.keys(m).some((k) => !k.startsWith("$"));
}

function mergeMap(target: JsonMap, patch: JsonMap, schema: TypeSchema | undefined, path: string): JsonMap {
  const out = cloneJson(target);
  for (const [key, pv] of Object.entries(patch)) {
    if (key.startsWith("$")) continue; // directives, handled below
    const merged = mergeValue(out[key], pv, fieldOf(schema, key), `${path}/${key}`);
    if (merged === ABSENT) delete out[key];
    else setKey(out, key, merged);
  }
  for (const [key, pv] of Object.entries(patch)) {
    if (key.startsWith(DELETE_FROM_PRIMITIVE_LIST)) {
      const field = key.slice(DELETE_FROM_PRIMITIVE_LIST.length);
      if (!Array.isArray(pv)) {
        throw new PatchError(`${key} at ${path || "/"} must be a list`, { op: key, path: `${path}/${field}` });
      }
      const list = out[field];
      if (Array.isArray(list)) setKey(out, field, list.filter((x) => !pv.some((d) => jsonEqual(d, x))));
    } else if (key === RETAIN_KEYS) {
      if (!Array.isArray(pv)) throw new PatchError(`$retainKeys at ${path || "/"} must be a list`, { op: key, path: path || "/" });
      const keep = new Set(pv.map(String));
      for (const k of Object.keys(out)) if (!keep.has(k)) delete out[k];
    } else if (key !== DIRECTIVE && !key.startsWith(SET_ELEMENT_ORDER) && key.startsWith("$")) {
      throw new PatchError(`unknown patch directive ${key} at ${path || "/"}`, { op: key, path: path || "/" });
    }
  }
  return out;
}

/** A lone `{$patch: x}` element speaks for the whole list. */
function listDirective(patch: unknown[]): string | undefined {
  for (const e of patch) {
    if (isMap(e) && Object.keys(e).length === 1 && typeof e[DIRECTIVE] === "string") return e[DIRECTIVE];
  }
  return undefined;
}

function mergeList(target: unknown[], patch: unknown[], field: FieldSchema, path: string): Merged {
  const directive = listDirective(patch);
  checkDirective(directive, path);
  if (directive === "delete") return ABSENT;
  // Elements carrying `$patch: replace` next to other fields are dropped, as kustomize drops them.
  const elements = patch.filter(
    (e) => !(isMap(e) && (Object.keys(e).length === 1 ? typeof e[DIRECTIVE] === "string" : e[DIRECTIVE] === "replace")),
  );
  const keys = field.mergeKeys ?? [];
  if (directive === "replace") return mergeList([], elements, field, path);
  if (keys.length === 0) return mergeScalarSet(target, elements);
  return keys.length === 1
    ? mergeBySingleKey(target, elements, keys[0]!, field.type, path)
    : mergeByKeyFields(target, elements, keys, field.type, path);
}

function mergeScalarSet(target: unknown[], patch: unknown[]): unknown[] {
  const out: unknown[] = [];
  for (const v of [...patch, ...target]) {
    if (v === null) continue;
    if (!out.some((x) => jsonEqual(x, v))) out.push(cloneJson(v));
  }
  return out;
}

function keyOf(e: unknown, key: string): string | undefined {
  if (!isMap(e)) return undefined;
  const v = e[key];
  return v === undefined || v === null ? undefined : JSON.stringify(v);
}

function mergeBySingleKey(target: unknown[], patch: unknown[], key: string, type: TypeSchema | undefined, path: string): unknown[] {
  const deleted = new Set<string>();
  const fromPatch = new Map<string, unknown>();
  // A patch element without the merge key (`- image: x` under containers) makes kustomize's merge
  // lossy: the result holds only the patch's keyed elements, in patch order; those before the
  // first keyless element are merged with the target element of the same key, those after it
  // are taken as new content; keyless patch elements and every other target element are gone.
  // Users rely on kustomize's output, so reproduce it rather than refuse (kubectl kustomize v5.5).
  let lossy = false;
  patch.forEach((e) => {
    const k = keyOf(e, key);
    if (k === undefined) {
      lossy = true;
      return;
    }
    // The first patch element with a key wins, as in kustomize.
    if (fromPatch.has(k) || deleted.has(k)) return;
    const el = e as JsonMap;
    if (el[DIRECTIVE] === "delete") {
      deleted.add(k);
      return;
    }
    const base = lossy ? undefined : target.find((t) => keyOf(t, key) === k);
    const merged = mergeValue(base, el, { type }, `${path}/${key}=${k}`);
    if (merged === ABSENT) deleted.add(k);
    else fromPatch.set(k, merged);
  });
  if (lossy) return [...fromPatch.values()];
  const rest = target.filter((t) => {
    const k = keyOf(t, key);
    return k === undefined || (!fromPatch.has(k) && !deleted.has(k));
  });
  return [...fromPatch.values(), ...rest.map(cloneJson)];
}

function mergeByKeyFields(target: unknown[], patch: unknown[], keys: readonly string[], type: TypeSchema | undefined, path: string): unknown[] {
  const out = target.map(cloneJson);
  const added: unknown[] = [];
  const unset = (v: unknown) => v === undefined || v === null;
  for (const e of patch) {
    if (!isMap(e)) {
      added.push(cloneJson(e));
      continue;
    }
    // An element is the same when every key field agrees, an unset field agreeing only with an
    // unset one. kustomize ignores a patch element that agrees with some element only on the key
    // fields both set (a port without `protocol` against one with it): so do we.
    const exact = out.findIndex((t) => isMap(t) && keys.every((k) => (unset(t[k]) && unset(e[k])) || jsonEqual(t[k], e[k])));
    const loose = out.some((t) => isMap(t) && keys.every((k) => unset(t[k]) || unset(e[k]) || jsonEqual(t[k], e[k])));
    if (exact < 0 && loose) continue;
    if (e[DIRECTIVE] === "delete") {
      if (exact >= 0) out.splice(exact, 1);
      continue;
    }
    const where = `${path}/${keys.map((k) => `${k}=${String(e[k] ?? "")}`).join(",")}`;
    const merged = mergeValue(exact >= 0 ? out[exact] : undefined, e, { type }, where);
    if (exact >= 0) {
      if (merged === ABSENT) out.splice(exact, 1);
      else out[exact] = merged;
    } else if (merged !== ABSENT) added.push(merged);
  }
  return [...added, ...out];
}
