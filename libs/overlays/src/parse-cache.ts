// Parsed YAML, kept between renders. A fleet renders the same base files for every cluster, and
// parsing is most of a render's time, so each file is parsed once per distinct content:
// - file contents are keyed by the bytes object the FileView returns (an env repo view hands out
//   the same Uint8Array for the same blob across builds and commits), in a WeakMap, so the
//   entries go when the view drops the bytes;
// - inline texts (patches written in a kustomization) are keyed by the text, in a small bounded map.
// Callers get a deep copy: transformers mutate the objects they are given. Only successful parses
// are kept; a failing text is parsed again, so its error names the file it was read from.
import { isPlainObject, parseYamlDocuments } from "./yaml-io.js";

export type Dialect = "manifest" | "kustomization";

interface FileEntry {
  text?: string;
  manifest?: unknown[];
  kustomization?: unknown[];
}

const byBytes = new WeakMap<Uint8Array, FileEntry>();

/** Inline texts are small: a few MiB of them cover a large fleet; the oldest go first. */
const MAX_INLINE_CHARS = 8 * 1024 * 1024;
const MAX_INLINE_TEXT = 64 * 1024;
const byText = new Map<string, unknown[]>();
let inlineChars = 0;

/** The decoded text of `bytes`, decoding once per bytes object. */
export function cachedText(bytes: Uint8Array, decode: () => string): string {
  let entry = byBytes.get(bytes);
  if (!entry) byBytes.set(bytes, (entry = {}));
  return (entry.text ??= decode());
}

/** The documents of a file's content (a fresh copy), parsing once per bytes object and dialect. */
export function documentsOfFile(bytes: Uint8Array, text: string, file: string, dialect: Dialect): unknown[] {
  let entry = byBytes.get(bytes);
  if (!entry) byBytes.set(bytes, (entry = {}));
  let docs = entry[dialect];
  if (!docs) entry[dialect] = docs = parseYamlDocuments(text, file, dialect);
  return copyDocuments(docs);
}

/** The manifest documents of an inline text (a fresh copy); `file` is only used for errors. */
export function documentsOfText(text: string, file: string): unknown[] {
  if (text.length > MAX_INLINE_TEXT) return parseYamlDocuments(text, file);
  let docs = byText.get(text);
  if (!docs) {
    docs = parseYamlDocuments(text, file);
    while (inlineChars + text.length > MAX_INLINE_CHARS) {
      const oldest = byText.keys().next();
      if (oldest.done) break;
      byText.delete(oldest.value);
      inlineChars -= oldest.value.length;
    }
    byText.set(text, docs);
    inlineChars += text.length;
  }
  return copyDocuments(docs);
}

function copyDocuments(docs: unknown[]): unknown[] {
  return docs.map(copyJson);
}

/** Deep copy of a parsed YAML value, copying what the parser's own copy (`unshare`) copies. */
function copyJson(v: unknown): unknown {
  if (typeof v !== "object" || v === null) return v;
  if (Array.isArray(v)) {
    const out = new Array<unknown>(v.length);
    for (let i = 0; i < v.length; i++) out[i] = copyJson(v[i]);
    return out;
  }
  if (!isPlainObject(v)) return v; // binary scalars (Uint8Array) are never mutated in place
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(v)) out[k] = copyJson(v[k]);
  return out;
}
