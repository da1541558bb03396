// `replacements:` — copy a field of one object (the source) into fields of others (the targets),
// as kustomize's ReplacementTransformer does: field paths split on dots outside brackets,
// `[key=value]` picks list elements, `[some.key]` is a literal key, `*` every element; options
// delimiter/index cut the source or splice into the target; `create` adds missing fields.
import { renderFailed } from "../errors.js";
import type { Replacement, ReplacementTarget } from "../replacement-config.js";
import { parseLabelSelector, type PatchTarget } from "../patch/index.js";
import { allIds, effectiveNamespace, type Resource } from "../resource.js";
import { documentsOfText } from "../parse-cache.js";
import { isPlainObject } from "../yaml-io.js";

type Where = { file: string; field: string };

/** kustomize's SmarterPathSplitter: dots separate segments except inside brackets. */
export function splitReplacementPath(path: string): string[] {
  const out: string[] = [];
  let cur = "";
  let depth = 0;
  for (const ch of path) {
    if (ch === "[") depth++;
    if (ch === "]") depth = Math.max(0, depth - 1);
    if (ch === "." && depth === 0) {
      out.push(cur);
      cur = "";
    } else cur += ch;
  }
  out.push(cur);
  return out.filter((s) => s !== "");
}

function scalarText(v: unknown): string | undefined {
  if (typeof v === "string") return v;
  if (typeof v === "number" || typeof v === "boolean") return String(v);
  if (v === null) return "null";
  return undefined;
}

/** Reads a value at a path (no creation); undefined when missing. */
function lookup(obj: unknown, segs: string[]): unknown {
  let nodes: unknown[] = [obj];
  for (const seg of segs) {
    const next: unknown[] = [];
    for (const node of nodes) next.push(...step(node, seg, false));
    nodes = next;
  }
  return nodes[0];
}

interface Slot {
  parent: Record<string, unknown> | unknown[];
  key: string | number;
}

/** Children a segment reaches from `node`; with `create`, missing map keys and list elements are added. */
function step(node: unknown, seg: string, create: boolean, nextSeg?: string): unknown[] {
  return slots(node, seg, create, false, nextSeg).map((s) => (s.parent as Record<string | number, unknown>)[s.key]);
}

function slots(node: unknown, seg: string, create: boolean, leaf = false, nextSeg?: string): Slot[] {
  const sel = /^\[(.*)=(.*)\]$/.exec(seg);
  if (sel) {
    if (!Array.isArray(node)) return [];
    const [, k = "", v = ""] = sel;
    const out: Slot[] = [];
    node.forEach((el, i) => {
      if (k === "" ? scalarText(el) === v : isPlainObject(el) && scalarText(el[k]) === v) out.push({ parent: node, key: i });
    });
    if (out.length === 0 && create && k !== "") {
      node.push({ [k]: v });
      out.push({ parent: node, key: node.length - 1 });
    }
    return out;
  }
  if (seg === "*") {
    if (Array.isArray(node)) return node.map((_, i) => ({ parent: node, key: i }));
    if (isPlainObject(node)) return Object.keys(node).map((key) => ({ parent: node, key }));
    return [];
  }
  const key = /^\[(.*)\]$/.exec(seg)?.[1] ?? seg;
  if (Array.isArray(node)) {
    return /^\d+$/.test(key) && Number(key) < node.length ? [{ parent: node, key: Number(key) }] : [];
  }
  if (!isPlainObject(node)) return [];
  if (node[key] === undefined || node[key] === null) {
    if (!create) return node[key] === null && leaf ? [{ parent: node, key }] : [];
    // A missing field followed by a list selector is created as a list.
    if (!leaf) node[key] = nextSeg !== undefined && /^(\[.*=.*\]|\d+)$/.test(nextSeg) ? [] : {};
  }
  return [{ parent: node, key }];
}

/** Places `path` reaches in `obj` (the last segment's slots), creating missing fields when asked. */
function targetSlots(obj: unknown, path: string, create: boolean): Slot[] {
  const segs = splitReplacementPath(path);
  let nodes: unknown[] = [obj];
  for (let i = 0; i < segs.length - 1; i++) {
    const next: unknown[] = [];
    for (const node of nodes) next.push(...step(node, segs[i] as string, create, segs[i + 1]));
    nodes = next;
  }
  const last = segs[segs.length - 1] as string;
  return nodes.flatMap((n) => slots(n, last, create, true));
}

/** A plain scalar's type as YAML would read it (kustomize writes created fields untagged). */
function plainScalar(text: string): unknown {
  try {
    const [v] = documentsOfText(text, "replacement value");
    if (typeof v === "number" || typeof v === "boolean") return v;
  } catch {
    // Not a scalar YAML can read: keep the text.
  }
  return text;
}

function sourceValue(resources: Resource[], r: Replacement, where: Where): unknown {
  const s = r.source;
  const matches = resources.filter((res) =>
    allIds(res).some(
      (id) =>
        (!s.group || s.group === id.group) &&
        (!s.version || s.version === id.version) &&
        (!s.kind || s.kind === id.kind) &&
        (!s.name || s.name === id.name) &&
        (!s.namespace || effectiveNamespace({ ...id, namespace: s.namespace }) === effectiveNamespace(id)),
    ),
  );
  const desc = JSON.stringify({ ...s, fieldPath: undefined, options: undefined });
  if (matches.length === 0) throw renderFailed(`replacement source ${desc} selects nothing`, where);
  if (matches.length > 1) throw renderFailed(`replacement source ${desc} selects several objects`, where);
  const fieldPath = s.fieldPath || "metadata.name";
  const value = lookup((matches[0] as Resource).obj, splitReplacementPath(fieldPath));
  if (value === undefined || value === null || value === "") {
    throw renderFailed(`fieldPath \`${fieldPath}\` is missing for replacement source ${desc}`, where);
  }
  if (s.options?.delimiter) {
    const text = scalarText(value);
    if (text === undefined) throw renderFailed("the delimiter option can only be used with scalar values", where);
    const parts = text.split(s.options.delimiter);
    const index = s.options.index ?? 0;
    if (index < 0 || index >= parts.length) {
      throw renderFailed(`options.index ${index} is out of bounds for value ${text}`, where);
    }
    return parts[index];
  }
  return value;
}

/**
 * Whether `sel` picks `res`. Unlike patch targets, replacement selectors match exactly (no regular
 * expressions), against any id the object has had; label and annotation selectors as usual.
 */
function selects(sel: PatchTarget, res: Resource): boolean {
  const idMatch = allIds(res).some(
    (id) =>
      (!sel.group || sel.group === id.group) &&
      (!sel.version || sel.version === id.version) &&
      (!sel.kind || sel.kind === id.kind) &&
      (!sel.name || sel.name === id.name) &&
      (!sel.namespace || effectiveNamespace({ ...id, namespace: sel.namespace }) === effectiveNamespace(id)),
  );
  if (!idMatch) return false;
  if (sel.labelSelector && !parseLabelSelector(sel.labelSelector)(res.obj.metadata.labels ?? {})) return false;
  if (sel.annotationSelector && !parseLabelSelector(sel.annotationSelector)(res.obj.metadata.annotations ?? {})) return false;
  return true;
}

function selected(resources: Resource[], t: ReplacementTarget): Resource[] {
  return resources.filter((r) => selects(t.select, r) && !t.reject.some((rej) => selects(rej, r)));
}

function setValue(slot: Slot, value: unknown, t: ReplacementTarget, created: boolean, where: Where): void {
  const container = slot.parent as Record<string | number, unknown>;
  const current = container[slot.key];
  let next: unknown = structuredClone(value);
  if (t.options.delimiter) {
    const text = scalarText(current ?? "");
    if (text === undefined) throw renderFailed("the delimiter option can only be used with scalar targets", where);
    const parts = text.split(t.options.delimiter);
    const v = scalarText(next) ?? "";
    const index = t.options.index ?? 0;
    if (index < 0) parts.unshift(v);
    else if (index >= parts.length) parts.push(v);
    else parts[index] = v;
    next = parts.join(t.options.delimiter);
  }
  const text = scalarText(next);
  if (created || current === null) {
    container[slot.key] = text === undefined || typeof next !== "string" ? next : plainScalar(text);
  } else if (scalarText(current) !== undefined && text !== undefined) {
    // kustomize copies only the text into an existing scalar and keeps its type.
    if (typeof current === "string") container[slot.key] = text;
    else if (typeof current === "number") container[slot.key] = typeof plainScalar(text) === "number" ? plainScalar(text) : text;
    else if (typeof current === "boolean") container[slot.key] = text === "true" ? true : text === "false" ? false : text;
    else container[slot.key] = text;
  } else {
    container[slot.key] = next;
  }
}

export function applyReplacements(resources: Resource[], replacements: Replacement[], file: string): void {
  replacements.forEach((r, i) => {
    const where = { file, field: `replacements[${i}]` };
    const value = sourceValue(resources, r, where);
    r.targets.forEach((t, ti) => {
      const twhere = { file, field: `replacements[${i}].targets[${ti}]` };
      for (const res of selected(resources, t)) {
        for (const fieldPath of t.fieldPaths.length > 0 ? t.fieldPaths : ["metadata.name"]) {
          const existing = targetSlots(res.obj, fieldPath, false);
          const found = existing.length > 0 ? existing : t.options.create ? targetSlots(res.obj, fieldPath, true) : [];
          if (found.length === 0) {
            throw renderFailed(`unable to find field "${fieldPath}" in replacement target ${res.obj.kind} ${res.obj.metadata.name}`, twhere);
          }
          for (const slot of found) setValue(slot, value, t, existing.length === 0, twhere);
        }
      }
    });
  });
}
