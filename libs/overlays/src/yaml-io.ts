// YAML in and out, the way Kubernetes tooling reads it: YAML 1.1 (so `0644` is 420 and `yes` is
// true), timestamps left as strings, multi-document files, `List` kinds flattened.
import { parseAllDocuments, stringify, type Document } from "yaml";
import type { KubeObject } from "@flotilla/model";
import { manifestInvalid } from "./errors.js";

const PARSE_OPTIONS = {
  version: "1.1" as const,
  // go-yaml leaves timestamps as strings when decoding into untyped JSON; so do we.
  customTags: (tags: unknown[]) =>
    tags.filter((t) => (t as { tag?: string }).tag !== "tag:yaml.org,2002:timestamp"),
  uniqueKeys: true,
};

/** Parses every document of a YAML stream into plain JSON values; empty documents are skipped. */
export function parseYamlDocuments(text: string, file: string): unknown[] {
  let docs: Document.Parsed[];
  try {
    docs = parseAllDocuments(text, PARSE_OPTIONS as never) as unknown as Document.Parsed[];
  } catch (err) {
    throw manifestInvalid(`cannot parse YAML: ${(err as Error).message}`, { file }, err);
  }
  if (!Array.isArray(docs)) docs = [docs as unknown as Document.Parsed];
  const out: unknown[] = [];
  for (const doc of docs) {
    const first = doc.errors[0];
    if (first) {
      const line = first.linePos?.[0]?.line;
      const reason = first.message.split("\n")[0] ?? first.message;
      throw manifestInvalid(`YAML syntax error: ${reason}`, { file, ...(line ? { line } : {}) }, first);
    }
    const value = doc.toJS({ maxAliasCount: 1000 }) as unknown;
    if (value === null || value === undefined) continue;
    out.push(value);
  }
  return out;
}

/** Parses a single-document YAML file (a kustomization); an empty file is an empty object. */
export function parseYamlDocument(text: string, file: string): unknown {
  const docs = parseYamlDocuments(text, file);
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
    for (const [k, v] of Object.entries(m)) {
      if (typeof v !== "string") {
        throw manifestInvalid(
          `${where} (${doc.kind} ${meta.name}): metadata.${key}.${k} must be a string (quote it)`,
          { file, field: `metadata.${key}.${k}` },
        );
      }
    }
  }
  if (doc.apiVersion === undefined) doc.apiVersion = "";
  return doc as unknown as KubeObject;
}

/** Multi-document YAML like `kustomize build` prints: keys sorted, `---` between documents. */
export function toYamlStream(objects: KubeObject[]): string {
  return objects
    .map((o) =>
      stringify(o, {
        version: "1.1",
        indentSeq: false,
        lineWidth: 0,
        sortMapEntries: true,
        aliasDuplicateObjects: false,
      }),
    )
    .join("---\n");
}
