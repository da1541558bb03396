// Field specs: "which field of which kinds" as kustomize's transformer configuration writes them
// (`spec/template/metadata/labels`, `spec/containers[]/image`). A path walks maps; sequences met
// on the way are walked element by element.
import { gvkSelected, splitApiVersion, type GvkSelector } from "./resource.js";
import { isPlainObject } from "./yaml-io.js";
import type { KubeObject } from "@flotilla/model";

export interface FieldSpec extends GvkSelector {
  path: string;
  create?: boolean;
}

/** Splits `a/b\/c/d[]` into ["a", "b/c", "d[]"]. */
export function splitFieldPath(path: string): string[] {
  const out: string[] = [];
  let cur = "";
  for (let i = 0; i < path.length; i++) {
    const ch = path[i];
    if (ch === "\\" && path[i + 1] === "/") {
      cur += "/";
      i++;
    } else if (ch === "/") {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  out.push(cur);
  return out.filter((s) => s !== "");
}

const segmentCache = new Map<string, string[]>();

/** Path segments with list markers (`[]`) dropped; cached because the same specs run on every object. */
function segmentsOf(path: string): string[] {
  let segs = segmentCache.get(path);
  if (!segs) {
    segs = splitFieldPath(path).map((s) => (s.endsWith("[]") ? s.slice(0, -2) : s));
    segmentCache.set(path, segs);
  }
  return segs;
}

export function specApplies(obj: KubeObject, spec: GvkSelector): boolean {
  const { group, version } = splitApiVersion(obj.apiVersion ?? "");
  return gvkSelected({ group, version, kind: obj.kind }, spec);
}

/**
 * Calls `visit(parent, key)` for every place `spec.path` reaches in `obj` (creating missing maps on
 * the way when `spec.create`). The visitor reads and writes `parent[key]` itself.
 */
export function walkFieldSpec(
  obj: KubeObject,
  spec: FieldSpec,
  visit: (parent: Record<string, unknown>, key: string, at: string) => void,
): void {
  if (!specApplies(obj, spec)) return;
  const segs = segmentsOf(spec.path);
  // `at` is the concrete location reached (`spec/volumeClaimTemplates/0/metadata/labels`).
  const rec = (node: unknown, i: number, at: string): void => {
    if (Array.isArray(node)) {
      node.forEach((el, n) => rec(el, i, `${at}/${n}`));
      return;
    }
    if (!isPlainObject(node)) return;
    const key = segs[i] as string;
    const here = at ? `${at}/${key}` : key;
    if (i === segs.length - 1) {
      if ((node[key] !== undefined && node[key] !== null) || spec.create) visit(node, key, here);
      return;
    }
    let next = node[key];
    if (next === undefined || next === null) {
      if (!spec.create) return;
      next = {};
      node[key] = next;
    }
    rec(next, i + 1, here);
  };
  rec(obj, 0, "");
}

/** Walks every spec in `specs` that applies to `obj`. */
export function walkFieldSpecs(
  obj: KubeObject,
  specs: readonly FieldSpec[],
  visit: (parent: Record<string, unknown>, key: string, spec: FieldSpec, at: string) => void,
): void {
  for (const spec of specs) walkFieldSpec(obj, spec, (p, k, at) => visit(p, k, spec, at));
}
