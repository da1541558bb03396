// JSON Patch (RFC 6902) over RFC 6901 pointers, as kustomize applies `patchesJson6902` and
// `patches` entries whose content is a list of operations. Operations apply in order to a copy;
// the first that fails throws a PatchError naming its index, op and path.
// Two kustomize behaviours beyond the RFC: every object it patches carries internal annotations,
// so `add /metadata/annotations/<key>` works on an object without annotations (we give it an
// empty map for the duration of the patch); and `test` of a missing path against null passes.

import { PatchError } from "./patch-error.js";
import { cloneJson, isMap, jsonEqual, setKey, type JsonMap, type KubeObject } from "./kube-object.js";

type Container = JsonMap | unknown[];

interface Operation {
  op: string;
  path: string;
  from?: string;
  value?: unknown;
}

/** Splits an RFC 6901 pointer into unescaped reference tokens. */
export function parsePointer(pointer: string): string[] {
  if (pointer === "") return [];
  if (!pointer.startsWith("/")) throw new Error(`JSON pointer ${JSON.stringify(pointer)} must start with "/"`);
  return pointer
    .slice(1)
    .split("/")
    .map((t) => t.replace(/~1/g, "/").replace(/~0/g, "~"));
}

function arrayIndex(list: unknown[], token: string, forInsert: boolean): number {
  if (token === "-" && forInsert) return list.length;
  if (!/^(0|[1-9][0-9]*)$/.test(token)) throw new Error(`${JSON.stringify(token)} is not an array index`);
  const i = Number(token);
  if (i > list.length || (!forInsert && i === list.length)) {
    throw new Error(`index ${i} is out of bounds (the list has ${list.length} elements)`);
  }
  return i;
}

/** Resolves every token but the last; returns the container and the last token. */
function parentOf(doc: unknown, tokens: string[]): { parent: Container; last: string } {
  let cur: unknown = doc;
  for (let i = 0; i < tokens.length - 1; i++) {
    const t = tokens[i]!;
    if (Array.isArray(cur)) cur = cur[arrayIndex(cur, t, false)];
    else if (isMap(cur) && Object.hasOwn(cur, t)) cur = cur[t];
    else throw new Error(`the document has no /${tokens.slice(0, i + 1).join("/")}`);
  }
  if (!Array.isArray(cur) && !isMap(cur)) {
    throw new Error(`/${tokens.slice(0, -1).join("/")} is not a map or a list`);
  }
  return { parent: cur, last: tokens[tokens.length - 1]! };
}

function getAt(doc: unknown, tokens: string[]): unknown {
  if (tokens.length === 0) return doc;
  const { parent, last } = parentOf(doc, tokens);
  if (Array.isArray(parent)) return parent[arrayIndex(parent, last, false)];
  if (!Object.hasOwn(parent, last)) throw new Error(`the document has no /${tokens.join("/")}`);
  return parent[last];
}

function addAt(doc: unknown, tokens: string[], value: unknown): unknown {
  if (tokens.length === 0) throw new Error("cannot add at the document root");
  const { parent, last } = parentOf(doc, tokens);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, last, true), 0, value);
  else setKey(parent, last, value);
  return doc;
}

function removeAt(doc: unknown, tokens: string[]): unknown {
  if (tokens.length === 0) throw new Error("cannot remove the whole document");
  const { parent, last } = parentOf(doc, tokens);
  if (Array.isArray(parent)) {
    const [removed] = parent.splice(arrayIndex(parent, last, false), 1);
    return removed;
  }
  if (!Object.hasOwn(parent, last)) throw new Error(`the document has no /${tokens.join("/")}`);
  const removed = parent[last];
  delete parent[last];
  return removed;
}

function replaceAt(doc: unknown, tokens: string[], value: unknown): unknown {
  if (tokens.length === 0) return value;
  const { parent, last } = parentOf(doc, tokens);
  if (Array.isArray(parent)) parent[arrayIndex(parent, last, false)] = value;
  else {
    if (!Object.hasOwn(parent, last)) throw new Error(`the document has no /${tokens.join("/")}`);
    setKey(parent, last, value);
  }
  return doc;
}

function toOperation(raw: unknown, index: number): Operation {
  if (!isMap(raw)) throw new PatchError(`JSON patch operation ${index} is not a map`);
  const { op, path, from } = raw;
  if (typeof op !== "string") throw new PatchError(`JSON patch operation ${index} has no "op"`);
  if (typeof path !== "string") throw new PatchError(`JSON patch operation ${index} (${op}) has no "path"`, { op });
  if ((op === "move" || op === "copy") && typeof from !== "string") {
    throw new PatchError(`JSON patch operation ${index} (${op} ${path}) has no "from"`, { op, path });
  }
  if ((op === "add" || op === "replace" || op === "test") && !Object.hasOwn(raw, "value")) {
    throw new PatchError(`JSON patch operation ${index} (${op} ${path}) has no "value"`, { op, path });
  }
  return { op, path, ...(typeof from === "string" ? { from } : {}), value: raw.value };
}

function applyOne(doc: unknown, o: Operation): unknown {
  const tokens = parsePointer(o.path);
  switch (o.op) {
    case "add":
      return addAt(doc, tokens, cloneJson(o.value));
    case "remove":
      removeAt(doc, tokens);
      return doc;
    case "replace":
      return replaceAt(doc, tokens, cloneJson(o.value));
    case "move": {
      const from = parsePointer(o.from!);
      if (o.from === o.path) return doc;
      if (tokens.length > from.length && from.every((t, i) => tokens[i] === t)) {
        throw new Error(`cannot move ${o.from} into its own child`);
      }
      const value = removeAt(doc, from);
      return addAt(doc, tokens, value);
    }
    case "copy":
      return addAt(doc, tokens, cloneJson(getAt(doc, parsePointer(o.from!))));
    case "test": {
      let actual: unknown;
      try {
        actual = getAt(doc, tokens);
      } catch (err) {
        if (o.value === null) return doc; // a missing value tests equal to null
        throw err;
      }
      if (!jsonEqual(actual, o.value)) {
        throw new Error(`value is ${JSON.stringify(actual)}, not ${JSON.stringify(o.value)}`);
      }
      return doc;
    }
    default:
      throw new Error(`unknown operation (use add, remove, replace, move, copy or test)`);
  }
}

/** Applies JSON patch operations to a copy of `target`. */
export function applyJson6902(target: KubeObject, ops: unknown[]): KubeObject {
  if (!Array.isArray(ops)) throw new PatchError("a JSON 6902 patch must be a list of operations");
  let doc: unknown = cloneJson(target);
  const meta = (doc as KubeObject).metadata;
  const lentAnnotations = isMap(meta) && meta.annotations === undefined;
  if (lentAnnotations) meta.annotations = {};
  ops.forEach((raw, index) => {
    const o = toOperation(raw, index);
    try {
      doc = applyOne(doc, o);
    } catch (err) {
      const from = o.from !== undefined ? ` from ${o.from}` : "";
      const why = err instanceof Error ? err.message : String(err);
      throw new PatchError(
        `JSON patch operation ${index} (${o.op} ${o.path}${from}) failed on ${target.kind} ${target.metadata.name}: ${why}`,
        { op: o.op, path: o.path, cause: err },
      );
    }
  });
  if (!isMap(doc)) {
    throw new PatchError(`the JSON patch turned ${target.kind} ${target.metadata.name} into something that is not an object`);
  }
  const after = (doc as KubeObject).metadata;
  if (lentAnnotations && isMap(after) && isMap(after.annotations) && Object.keys(after.annotations).length === 0) {
    delete after.annotations;
  }
  return doc as KubeObject;
}
