// Field specs: "which field of which kinds" as kustomize's transformer configuration writes them
// (`spec/template/metadata/labels`, `spec/containers[]/image`). A path walks maps; sequences met
// on the way are walked element by element. Creation follows kustomize: only maps, never lists.
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

interface Segment {
  key: string;
  /** Written `key[]`: the field is a list, so it is never created (kustomize creates only maps). */
  list: boolean;
}

const segmentCache = new Map<string, Segment[]>();

/** Path segments with their list markers; cached because the same specs run on every object. */
function segmentsOf(path: string): Segment[] {
  let segs = segmentCache.get(path);
  if (!segs) {
    segs = splitFieldPath(path).map((s) => (s.endsWith("[]") ? { key: s.slice(0, -2), list: true } : { key: s, list: false }));
    segmentCache.set(path, segs);
  }
  return segs;
}

export function specApplies(obj: KubeObject, spec: GvkSelector): boolean {
  const { group, version } = splitApiVersion(obj.apiVersion ?? "");
  return gvkSelected({ group, version, kind: obj.kind }, spec);
}

/**
 * Calls `visit(parent, key)` for every place `spec.path` reaches in `obj`. With `spec.create`,
 * missing maps on the way (and the last field) are created, as kustomize's fieldspec filter does;
 * a field marked `[]` is a list and is never created (a StatefulSet without volumeClaimTemplates
 * keeps having none), and one that is null becomes an empty list, as in kustomize. The visitor
 * reads and writes `parent[key]` itself.
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
    const seg = segs[i] as Segment;
    const key = seg.key;
    const here = at ? `${at}/${key}` : key;
    let next = node[key];
    if (seg.list) {
      if (next === undefined) return;
      if (next === null) {
        next = [];
        node[key] = next;
      }
      if (i === segs.length - 1) visit(node, key, here);
      else rec(next, i + 1, here);
      return;
    }
    if (i === segs.length - 1) {
      if ((next !== undefined && next !== null) || spec.create) visit(node, key, here);
      return;
    }
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
