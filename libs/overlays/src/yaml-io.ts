// YAML in and out, the way Kubernetes tooling reads it: YAML 1.1 (so `0644` is 420 and `yes` is
// true), timestamps left as strings, multi-document files, `List` kinds flattened.
import { Document, parse, parseAllDocuments, Scalar, visit } from "yaml";
import type { KubeObject } from "@flotilla/model";
import { manifestInvalid } from "./errors.js";
import { foldLongScalars } from "./yaml-fold.js";

interface ScalarTag {
  tag: string;
  test?: RegExp;
  default?: boolean;
  resolve: (str: string) => unknown;
  identify?: (v: unknown) => boolean;
}

/** Integers as go-yaml v3 reads them (Go's ParseInt base 0): 0644 is octal, 0x/0o/0b, underscores. */
const goInt: ScalarTag = {
  tag: "tag:yaml.org,2002:int",
  default: true,
  identify: (v) => typeof v === "number" && Number.isInteger(v),
  test: /^[-+]?(?:0[bB][01](?:_?[01])*|0[oO][0-7](?:_?[0-7])*|0[xX][0-9a-fA-F](?:_?[0-9a-fA-F])*|[0-9](?:_?[0-9])*)$/,
  resolve(str) {
    const sign = str.startsWith("-") ? -1 : 1;
    const body = str.replace(/^[-+]/, "").replace(/_/g, "");
    let n: number;
    if (/^0[xX]/.test(body)) n = parseInt(body.slice(2), 16);
    else if (/^0[oO]/.test(body)) n = parseInt(body.slice(2), 8);
    else if (/^0[bB]/.test(body)) n = parseInt(body.slice(2), 2);
    else if (body.length > 1 && body.startsWith("0")) n = /^[0-7]+$/.test(body) ? parseInt(body, 8) : parseFloat(body);
    else n = parseInt(body, 10);
    return sign * n;
  },
};

/** Plain timestamps: go-yaml v3 decodes them as time values, which JSON prints in RFC 3339. */
const goTimestamp: ScalarTag = {
  tag: "tag:yaml.org,2002:timestamp",
  default: true,
  test: /^\d{4}-\d\d?-\d\d?(?:(?:[Tt]|[ \t]+)\d\d?:\d\d?:\d\d?(?:\.\d+)?(?:Z|[-+]\d\d?(?::\d\d)?)?)?$/,
  resolve(str) {
    const m = /^(\d{4})-(\d\d?)-(\d\d?)$/.exec(str);
    if (m) return `${m[1]}-${m[2]!.padStart(2, "0")}-${m[3]!.padStart(2, "0")}T00:00:00Z`;
    return str;
  },
};

/**
 * Manifests and patches are read the way kustomize (go-yaml v3) reads them: YAML 1.2 booleans and
 * nulls (so `on`/`yes`/`y` stay strings), but octal `0644` is 420 as in YAML 1.1 — the case the
 * stack notes warn about — and plain dates become RFC 3339 strings.
 */
const MANIFEST_OPTIONS = {
  version: "1.2" as const,
  schema: "core" as const,
  merge: true, // go-yaml honours `<<` merge keys
  customTags: (tags: ScalarTag[]) => [
    ...tags.filter((t) => t.tag !== "tag:yaml.org,2002:int"),
    goInt,
    goTimestamp,
  ],
  uniqueKeys: true,
};

/**
 * Kustomization files are read by kustomize with sigs.k8s.io/yaml, i.e. YAML 1.1: `y`, `yes`, `on`
 * are booleans there (and refused where a string is expected, as kustomize refuses them).
 */
const KUSTOMIZATION_OPTIONS = {
  version: "1.1" as const,
  customTags: (tags: Array<{ tag?: string }>) => tags.filter((t) => t.tag !== "tag:yaml.org,2002:timestamp"),
  // sigs.k8s.io/yaml keeps the last value of a repeated key (`namePrefix:` twice: the second wins).
  uniqueKeys: false,
};

/** Parses every document of a YAML stream into plain JSON values; empty documents are skipped. */
export function parseYamlDocuments(text: string, file: string, dialect: "manifest" | "kustomization" = "manifest"): unknown[] {
  const options = dialect === "manifest" ? MANIFEST_OPTIONS : KUSTOMIZATION_OPTIONS;
  let docs: Document.Parsed[];
  try {
    docs = parseAllDocuments(text, options as never) as unknown as Document.Parsed[];
  } catch (err) {
    throw manifestInvalid(`cannot parse YAML: ${(err as Error).message}`, { file }, err);
  }
  if (!Array.isArray(docs)) docs = [docs as unknown as Document.Parsed];
  const out: unknown[] = [];
  for (const doc of docs) {
    const first = doc.errors[0];
    if (first) {
      const line = first.linePos?.[0]?.line;
      const reason = (first.message.split("\n")[0] ?? first.message).replace(/ at line \d+, column \d+:?$/, "");
      throw manifestInvalid(`YAML syntax error: ${reason}`, { file, ...(line ? { line } : {}) }, first);
    }
    let value: unknown;
    try {
      // An alias becomes its own copy, as kustomize de-anchors documents.
      value = unshare(doc.toJS({ maxAliasCount: 1000 }) as unknown);
    } catch (err) {
      throw manifestInvalid(`YAML error: ${(err as Error).message}`, { file }, err);
    }
    if (value === null || value === undefined) continue;
    out.push(value);
  }
  return out;
}

/** Deep copy that gives every occurrence its own object (structuredClone would keep sharing). */
function unshare(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(unshare);
  if (isPlainObject(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = unshare(x);
    return out;
  }
  return v;
}

/** Parses a single-document YAML file (a kustomization); an empty file is an empty object. */
export function parseYamlDocument(text: string, file: string): unknown {
  return singleDocument(parseYamlDocuments(text, file, "kustomization"), file);
}

/** The one document of a single-document file; an empty file is an empty object. */
export function singleDocument(docs: unknown[], file: string): unknown {
  if (docs.length > 1) throw manifestInvalid("expected a single YAML document", { file });
  return docs[0] ?? {};
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v) && !(v instanceof Uint8Array);
}

/** Turns the documents of a manifest file into objects, expanding `kind: List` / `*List` items. */
export function toKubeObjects(docs: unknown[], file: string): KubeObject[] {
  const out: KubeObject[] = [];
  const visit = (doc: unknown, where: string) => {
    if (Array.isArray(doc) && doc.length === 0) return; // kustomize skips an empty `[]` document
    if (!isPlainObject(doc)) throw manifestInvalid(`${where} is not a YAML mapping`, { file });
    const kind = doc.kind;
    if (typeof kind === "string" && kind.endsWith("List") && Array.isArray(doc.items)) {
      doc.items.forEach((item, i) => visit(item, `${where} items[${i}]`));
      return;
    }
    out.push(checkObject(doc, where, file));
  };
  docs.forEach((doc, i) => visit(doc, `document ${i + 1}`));
  return out;
}

function checkObject(doc: Record<string, unknown>, where: string, file: string): KubeObject {
  if (typeof doc.kind !== "string" || doc.kind === "") {
    throw manifestInvalid(`${where} has no kind`, { file, field: "kind" });
  }
  if (doc.apiVersion !== undefined && typeof doc.apiVersion !== "string") {
    throw manifestInvalid(`${where} (${doc.kind}) has a non-string apiVersion`, { file, field: "apiVersion" });
  }
  const meta = doc.metadata;
  if (!isPlainObject(meta) || typeof meta.name !== "string" || meta.name === "") {
    throw manifestInvalid(`${where} (${doc.kind}) has no metadata.name`, { file, field: "metadata.name" });
  }
  if (meta.namespace !== undefined && meta.namespace !== null && typeof meta.namespace !== "string") {
    throw manifestInvalid(`${where} (${doc.kind} ${meta.name}) has a non-string metadata.namespace`, {
      file,
      field: "metadata.namespace",
    });
  }
  for (const key of ["labels", "annotations"] as const) {
    const m = meta[key];
    if (m === undefined || m === null) continue;
    if (!isPlainObject(m)) {
      throw manifestInvalid(`${where} (${doc.kind} ${meta.name}): metadata.${key} must be a map`, { file });
    }
    // kustomize passes non-string label values through (the API server will refuse them) but
    // rewrites scalar annotation values as strings; do the same.
    if (key === "annotations") {
      for (const [k, v] of Object.entries(m)) {
        if (typeof v === "number" || typeof v === "boolean") m[k] = String(v);
      }
    }
  }
  if (doc.apiVersion === undefined) doc.apiVersion = "";
  return doc as unknown as KubeObject;
}

/**
 * Multi-document YAML like `kustomize build` prints it: keys sorted, lists not indented, `---`
 * between documents, and go-yaml's quoting — double quotes for strings that would read back as
 * another type (`"1"`, `"yes"`, `""`), single quotes for the rest that cannot be plain (`'* * *'`).
 */
export function toYamlStream(objects: KubeObject[]): string {
  const ambiguous = new Map<string, boolean>();
  return objects
    .map((o) => {
      const doc = new Document(o, {
        version: "1.1",
        sortMapEntries: true,
        aliasDuplicateObjects: false,
      });
      visit(doc, {
        Scalar(_key, node) {
          if (typeof node.value !== "string") return;
          // go-yaml never writes a block scalar whose lines end in spaces: it double-quotes it.
          if (readsAsOtherType(node.value, ambiguous) || (/ (\n|$)/.test(node.value) && node.value.includes("\n"))) {
            node.type = Scalar.QUOTE_DOUBLE;
          } else if (node.value.includes("'") && needsQuotes(node.value) && !hasControlChars(node.value)) {
            // go-yaml still prefers single quotes ('it''s') where the yaml library would switch to double.
            node.type = Scalar.QUOTE_SINGLE;
          }
        },
      });
      // Printed unfolded, then folded at 80 columns exactly where go-yaml folds.
      return foldLongScalars(doc.toString({ indentSeq: false, lineWidth: 0, singleQuote: true, doubleQuotedAsJSON: true }));
    })
    .join("---\n");
}

function hasControlChars(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

/** Whether a string cannot be written plain (the yaml library would quote it). */
function needsQuotes(value: string): boolean {
  const text = new Document(value, { version: "1.1" }).toString({ lineWidth: 0 });
  return text.startsWith('"') || text.startsWith("'");
}

function readsAsOtherType(value: string, cache: Map<string, boolean>): boolean {
  let hit = cache.get(value);
  if (hit === undefined) {
    try {
      const back = parse(value, { version: "1.1" }) as unknown;
      hit = back === null || typeof back === "number" || typeof back === "boolean" || back instanceof Date;
    } catch {
      hit = false;
    }
    cache.set(value, hit);
  }
  return hit;
}
