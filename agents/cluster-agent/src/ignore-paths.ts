// Ignored paths are never reverted: before the agent applies an object that already exists, the
// values at its ignored paths are replaced by the live ones (what Argo CD calls "respect ignore
// differences"), so an apply or revert leaves, say, an HPA's `/spec/replicas` alone. Simply
// omitting the field would not do: server-side apply removes a field its manager stops sending
// when no other manager owns it, and the server would default it. Pure.
import type { IgnoreRule, KubeObject } from "@flotilla/model";
import { ignoredPathsFor } from "@flotilla/kube";
import { refOf } from "@flotilla/model";

type Json = unknown;

function segments(pointer: string): string[] {
  if (pointer === "") return [];
  return pointer.slice(1).split("/").map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
}

const isContainer = (v: Json): v is Record<string, Json> | Json[] => typeof v === "object" && v !== null;

function valueAt(root: Json, segs: string[]): { found: boolean; value?: Json } {
  let node = root;
  for (const s of segs) {
    if (Array.isArray(node)) node = node[Number(s)];
    else if (isContainer(node) && s in node) node = (node as Record<string, Json>)[s];
    else return { found: false };
    if (node === undefined) return { found: false };
  }
  return { found: true, value: node };
}

/** Sets (or with `undefined`, removes) the value at `segs`, creating objects on the way. */
function setAt(root: Record<string, Json>, segs: string[], value: Json): void {
  let node: Json = root;
  for (let i = 0; i < segs.length - 1; i++) {
    const s = segs[i]!;
    const container = node as Record<string, Json>;
    if (!isContainer(container[s])) {
      if (value === undefined) return; // nothing to remove below a missing parent
      container[s] = /^\d+$/.test(segs[i + 1]!) ? [] : {};
    }
    node = container[s];
  }
  const last = segs[segs.length - 1]!;
  if (Array.isArray(node)) {
    if (value === undefined) return; // never shift list items: leave the desired one
    node[Number(last)] = value;
  } else if (isContainer(node)) {
    if (value === undefined) delete (node as Record<string, Json>)[last];
    else (node as Record<string, Json>)[last] = value;
  }
}

/** The ignored pointers that apply to `desired`. */
export function ignoredPaths(desired: KubeObject, rules: readonly IgnoreRule[]): string[] {
  return rules.length === 0 ? [] : ignoredPathsFor(rules, refOf(desired));
}

/** `desired` with the live values at its ignored paths (the desired object itself when no rule
 * applies or the object does not exist yet: a create uses the desired values). */
export function withLiveValuesAtIgnoredPaths(desired: KubeObject, live: KubeObject | undefined, rules: readonly IgnoreRule[]): KubeObject {
  const paths = ignoredPaths(desired, rules);
  if (!live || paths.length === 0) return desired;
  const copy = structuredClone(desired) as unknown as Record<string, Json>;
  for (const p of paths) {
    const segs = segments(p);
    if (segs.length === 0) continue;
    const v = valueAt(live, segs);
    setAt(copy, segs, v.found ? structuredClone(v.value) : undefined);
  }
  return copy as unknown as KubeObject;
}

/** Item keys of Kubernetes associative lists, in diffLive's order of preference. */
const LIST_KEYS = ["name", "containerPort", "port", "mountPath", "devicePath", "ip", "topologyKey", "type"];

/** Index in `list` of the item that is `item` by its list key (containers by name, ports by
 * port…), else the same index when `list` has one; -1 when `list` has no such item. */
function matchingIndex(list: Json[], item: Json, index: number): number {
  if (isContainer(item) && !Array.isArray(item)) {
    const key = LIST_KEYS.find((k) => item[k] !== undefined && list.every((x) => isContainer(x) && !Array.isArray(x) && x[k] !== undefined));
    if (key !== undefined) {
      const id = JSON.stringify(item[key]);
      return list.findIndex((x) => JSON.stringify((x as Record<string, Json>)[key]) === id);
    }
  }
  return index < list.length ? index : -1;
}

/** `segs` (list indices of `ref`, as diffLive reports them) as the same field of `root`; undefined
 * when `root` lacks the list item. Past a missing container the remaining segments are kept. */
function resolveIn(root: Json, ref: Json, segs: string[]): string[] | undefined {
  const out: string[] = [];
  let r: Json = ref;
  let node: Json = root;
  for (const s of segs) {
    if (Array.isArray(r) && Array.isArray(node)) {
      const i = Number(s);
      const j = matchingIndex(node, r[i], i);
      if (j < 0) return undefined;
      out.push(String(j));
      r = r[i];
      node = node[j];
      continue;
    }
    out.push(s);
    r = isContainer(r) ? (r as Record<string, Json>)[s] : undefined;
    node = isContainer(node) ? (node as Record<string, Json>)[s] : undefined;
  }
  return out;
}

/** `target` with the values `source` has at `pointers` (a value `source` lacks is removed).
 * Pointers carry the list indices of `ref` (the live object diffLive compared); items of keyed
 * lists are matched by key in `source` and `target`, so a different item order does no harm.
 * Used to keep out-of-band values a break-glass window covers, and to put the desired values
 * back into the drift baseline. Pure. */
export function withValuesAt(target: KubeObject, source: KubeObject, pointers: readonly string[], ref: KubeObject = source): KubeObject {
  if (pointers.length === 0) return target;
  const copy = structuredClone(target) as unknown as Record<string, Json>;
  for (const p of pointers) {
    const segs = segments(p);
    if (segs.length === 0) continue;
    const at = resolveIn(copy, ref, segs);
    if (!at) continue;
    const from = resolveIn(source, ref, segs);
    const v = from ? valueAt(source, from) : { found: false };
    setAt(copy, at, v.found ? structuredClone(v.value) : undefined);
  }
  return copy as unknown as KubeObject;
}
