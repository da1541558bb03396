// `vars:` (deprecated in kustomize in favour of replacements, still common): `$(NAME)` in the
// fields the varReference field specs name is replaced by a field of one object. As kustomize
// does it (v5.5):
// - each kustomization binds its vars, after its own transformers ran, to the one object whose
//   id (current or any earlier one) matches the objref; objref group/version/kind must match
//   exactly, so an objref without apiVersion matches nothing;
// - vars collect upwards from bases and components; a name declared twice is an error;
// - only at the top, after content hashes and name references, each var takes the value of its
//   field (default metadata.name, so a var sees the final, prefixed and hashed name) and every
//   `$(NAME)` is expanded: `$$` is a literal `$`, an unknown name stays as written, and a field
//   that is exactly `$(NAME)` takes the value's type (a port stays a number).
import { renderFailed } from "./errors.js";
import type { FieldReader } from "./field-reader.js";
import { walkFieldSpecs, type FieldSpec } from "./field-spec.js";
import { allIds, idEquals, sameGvkn, splitApiVersion, type ResId, type Resource } from "./resource.js";
import { isClusterScoped } from "./scope.js";
import { isPlainObject } from "./yaml-io.js";

export interface VarDecl {
  name: string;
  objref: ResId;
  /** Dotted path; `ports[0]` and `[name=x]` select list elements. */
  fieldPath: string;
  /** The kustomization that declared it, for errors. */
  file: string;
}

export function parseVar(r: FieldReader, file: string): VarDecl {
  r.checkKeys(["name", "objref", "fieldref"]);
  const name = r.reqString("name");
  if (r.raw.objref === undefined || r.raw.objref === null) throw r.bad("objref", "is required");
  const o = r.sub(r.raw.objref, "objref");
  o.checkKeys(["apiVersion", "group", "version", "kind", "name", "namespace"]);
  // kustomize's Target.GVK(): apiVersion, when set, overrides group and version.
  let group = o.optString("group") ?? "";
  let version = o.optString("version") ?? "";
  const apiVersion = o.optString("apiVersion");
  if (apiVersion) ({ group, version } = splitApiVersion(apiVersion));
  const objref: ResId = { group, version, kind: o.optString("kind") ?? "", name: o.optString("name") ?? "", namespace: o.optString("namespace") ?? "" };
  let fieldPath = "metadata.name";
  if (r.raw.fieldref !== undefined && r.raw.fieldref !== null) {
    const f = r.sub(r.raw.fieldref, "fieldref");
    f.checkKeys(["fieldpath"]);
    fieldPath = f.optString("fieldpath") || fieldPath;
  }
  return { name, objref, fieldPath, file };
}

/**
 * kustomize's MergeVars: binds `decls` (one kustomization's vars) to the objects of its build and
 * adds them to `collected`. `field` names where the declarations came from, for errors.
 */
export function bindVars(decls: readonly VarDecl[], resources: readonly Resource[], collected: VarDecl[], field: string): void {
  for (const v of decls) {
    const where = { file: v.file, field };
    // An objref without a namespace matches in any namespace, unless the kind is cluster-scoped.
    const exact = v.objref.namespace !== "" || isClusterScoped(v.objref.group, v.objref.kind);
    const matches = (id: ResId) => (exact ? idEquals(id, v.objref) : sameGvkn(id, v.objref));
    const matched = resources.filter((r) => allIds(r).some(matches));
    if (matched.length > 1) {
      throw renderFailed(`found ${matched.length} objects matching the objref of var '${v.name}' (unable to disambiguate)`, where);
    }
    if (matched.length === 1) (matched[0] as Resource).refVarNames.push(v.name);
  }
  for (const v of decls) addVars(collected, [v], { file: v.file, field });
}

/**
 * Adds vars to a collection, refusing a name already in it (kustomize's VarSet.MergeSlice);
 * `where` is the kustomization (and field) that brings them together.
 */
export function addVars(collected: VarDecl[], add: readonly VarDecl[], where: { file: string; field: string }): void {
  for (const v of add) {
    if (collected.some((c) => c.name === v.name)) throw renderFailed(`var '${v.name}' already encountered`, where);
    collected.push(v);
  }
}

type Primitive = string | number | boolean;

/** Replaces `$(NAME)` in the fields `specs` name, in every object. Only at the top of a build. */
export function resolveVars(resources: readonly Resource[], vars: readonly VarDecl[], specs: readonly FieldSpec[], file: string): void {
  if (vars.length === 0) return;
  const values = new Map<string, unknown>();
  for (const v of vars) {
    const holder = resources.find((r) => r.refVarNames.includes(v.name));
    if (!holder) throw renderFailed(`var '${v.name}' cannot be mapped to a field in the set of known resources`, { file: v.file, field: "vars" });
    const value = fieldValue(holder.obj, v.fieldPath);
    if (value === undefined) {
      throw renderFailed(`field ${v.fieldPath} of var '${v.name}' not found in ${holder.obj.kind} ${holder.obj.metadata.name}`, {
        file: v.file,
        field: "vars",
      });
    }
    values.set(v.name, value);
  }
  // Values that are maps or lists cannot go into a string: the reference stays as written.
  const mapping = (name: string): unknown => {
    const v = values.get(name);
    return typeof v === "string" || typeof v === "number" || typeof v === "boolean" ? v : `$(${name})`;
  };
  for (const r of resources) {
    walkFieldSpecs(r.obj, specs, (parent, key, spec) => {
      const v = parent[key];
      if (typeof v === "string") parent[key] = expand(v, mapping);
      else if (Array.isArray(v)) {
        v.forEach((item, i) => {
          if (typeof item !== "string") {
            throw renderFailed(`${r.obj.kind} ${r.obj.metadata.name}: ${spec.path} holds a value that is not a string; vars expand only in strings`, {
              file,
              field: "vars",
            });
          }
          v[i] = expand(item, mapping);
        });
      } else if (isPlainObject(v)) {
        for (const [k, item] of Object.entries(v)) if (typeof item === "string") v[k] = expand(item, mapping);
      }
    });
  }
}

/** kustomize's DoReplacements: `$(NAME)` mapped, `$$` a literal `$`; exactly `$(NAME)` keeps the value's type. */
export function expand(input: string, mapping: (name: string) => unknown): unknown {
  let out = "";
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] !== "$" || cursor + 1 >= input.length) continue;
    out += input.slice(checkpoint, cursor);
    const rest = input.slice(cursor + 1);
    let advance = 1;
    if (rest[0] === "$") out += "$";
    else if (rest[0] === "(") {
      const close = rest.indexOf(")", 1);
      if (close < 0) out += "$(";
      else {
        const name = rest.slice(1, close);
        const mapped = mapping(name);
        if (input === `$(${name})`) return mapped;
        out += String(mapped as Primitive);
        advance = close + 1;
      }
    } else out += `$${rest[0]}`;
    cursor += advance;
    checkpoint = cursor + 1;
  }
  return out + input.slice(checkpoint);
}

/**
 * kyaml's GetFieldValue: a dotted path; `name[2]` indexes a list, a segment `[k=v]` picks the list
 * element whose field k is v, a number indexes a list. Undefined when the field is missing.
 */
export function fieldValue(obj: unknown, path: string): unknown {
  const segs: string[] = [];
  for (const s of path.split(".")) {
    const m = /^(.*)\[(\d+)\]$/.exec(s);
    if (!m) segs.push(s);
    else {
      if (m[1]) segs.push(m[1]);
      segs.push(m[2] as string);
    }
  }
  let node: unknown = obj;
  for (const seg of segs) {
    const sel = /^\[(.*)=(.*)\]$/.exec(seg);
    if (Array.isArray(node)) {
      if (sel) node = node.find((el) => isPlainObject(el) && el[sel[1] as string] !== undefined && String(el[sel[1] as string]) === sel[2]);
      else node = /^\d+$/.test(seg) ? node[Number(seg)] : undefined;
    } else if (isPlainObject(node) && !sel) node = node[seg];
    else return undefined;
    if (node === undefined) return undefined;
  }
  return node;
}
