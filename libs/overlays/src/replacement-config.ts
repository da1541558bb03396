// The `replacements` part of a kustomization: inline entries and files of them.
import type { PatchTarget } from "./patch/index.js";
import { FieldReader, parseTarget } from "./field-reader.js";

export interface ReplacementSource {
  group?: string;
  version?: string;
  kind?: string;
  name?: string;
  namespace?: string;
  fieldPath?: string;
  options?: { delimiter?: string; index?: number };
}

export interface ReplacementTarget {
  select: PatchTarget;
  reject: PatchTarget[];
  fieldPaths: string[];
  options: { delimiter?: string; index?: number; create: boolean };
}

export interface Replacement {
  source: ReplacementSource;
  targets: ReplacementTarget[];
}

/** A replacement written inline, or a file holding one or a list of them. */
export type ReplacementEntry = { inline: Replacement } | { path: string };

/** Replacements read from a `replacements: - path:` file (one mapping or a list of them). */
export function parseReplacementFile(raw: unknown, file: string): Replacement[] {
  const items = Array.isArray(raw) ? raw : [raw];
  const top = new FieldReader({}, file);
  return items.map((v, i) => parseReplacement(top.sub(v, `[${i}]`)));
}

export function parseReplacement(r: FieldReader): Replacement {
  r.checkKeys(["source", "targets"]);
  if (r.raw.source === undefined || r.raw.source === null) throw r.bad("source", "is required");
  const s = r.sub(r.raw.source, "source");
  s.checkKeys(["group", "version", "kind", "name", "namespace", "fieldPath", "options"]);
  const source: ReplacementSource = {};
  for (const k of ["group", "version", "kind", "name", "namespace", "fieldPath"] as const) {
    const v = s.optString(k);
    if (v) source[k] = v;
  }
  if (s.raw.options !== undefined && s.raw.options !== null) source.options = parseFieldOptions(s.sub(s.raw.options, "options"), false);
  const targets = r.list("targets").map((v, i) => {
    const t = r.sub(v, `targets[${i}]`);
    t.checkKeys(["select", "reject", "fieldPaths", "options"]);
    if (t.raw.select === undefined || t.raw.select === null) throw t.bad("select", "is required: a target must specify resources to select");
    const options = t.raw.options !== undefined && t.raw.options !== null ? parseFieldOptions(t.sub(t.raw.options, "options"), true) : {};
    return {
      select: parseTarget(t.sub(t.raw.select, "select")),
      reject: t.list("reject").map((x, j) => parseTarget(t.sub(x, `reject[${j}]`))),
      fieldPaths: t.stringList("fieldPaths"),
      options: { ...options, create: options.create ?? false },
    };
  });
  return { source, targets };
}

function parseFieldOptions(r: FieldReader, target: boolean): { delimiter?: string; index?: number; create?: boolean } {
  r.checkKeys(["delimiter", "index", ...(target ? ["create"] : [])]);
  const out: { delimiter?: string; index?: number; create?: boolean } = {};
  const delimiter = r.optString("delimiter");
  if (delimiter) out.delimiter = delimiter;
  const index = r.raw.index;
  if (index !== undefined && index !== null) {
    if (typeof index !== "number" || !Number.isInteger(index)) throw r.bad("index", "must be an integer");
    out.index = index;
  }
  if (target) {
    const create = r.optBool("create");
    if (create !== undefined) out.create = create;
  }
  return out;
}

