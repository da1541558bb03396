// Plain manifests: an app directory without a kustomization holds *.yaml / *.yml / *.json files,
// each one or more documents, read in file-name order. Every error names the file and line.
import { ManifestError, type ErrorInfo, type KubeObject } from "@flotilla/model";
import type { FileView } from "./file-view.js";
import { imageFields } from "./image-fields.js";
import { lineAt, lineOfNode, parseYamlStream, type YamlDoc } from "./yaml-source.js";

/** Where a rendered object came from. */
export interface ObjectOrigin {
  file: string;
  line?: number;
}

export type ManifestResult =
  | { ok: true; objects: KubeObject[]; origins: ObjectOrigin[]; readPaths: string[] }
  | { ok: false; errors: ErrorInfo[] };

const MANIFEST_FILE = /\.(ya?ml|json)$/i;

/**
 * The line of each image field of a parsed object (keyed by the field's path), so environment
 * checks can name it. Only those lines, not the YAML document: the hub's incremental renderer
 * keeps every rendered object, and a document per object (its nodes, line table and schema) was
 * a few KiB per cluster kept for a line number that is asked only when an image is not pinned.
 */
const imageLines = new WeakMap<object, Map<string, number>>();

/** Line of an image field (e.g. `spec.template.spec.containers[0].image`) of an object read from a plain manifest, if known. */
export function lineOfField(obj: object, field: (string | number)[]): number | undefined {
  return imageLines.get(obj)?.get(JSON.stringify(field));
}

/** Reads every manifest file directly in `dir` (not in subdirectories), sorted by name. */
export function readPlainManifests(view: FileView, dir: string): ManifestResult {
  const names = (view.listDir(dir) ?? []).filter((n) => MANIFEST_FILE.test(n) && view.readFile(`${dir}/${n}`) !== undefined).sort();
  const objects: KubeObject[] = [];
  const origins: ObjectOrigin[] = [];
  const errors: ErrorInfo[] = [];
  const readPaths: string[] = [];
  for (const name of names) {
    const file = `${dir}/${name}`;
    readPaths.push(file);
    const r = parseManifestFile(new TextDecoder().decode(view.readFile(file)!), file);
    if (!r.ok) errors.push(...r.errors);
    else {
      objects.push(...r.objects);
      origins.push(...r.origins);
    }
  }
  return errors.length ? { ok: false, errors } : { ok: true, objects, origins, readPaths };
}

/** Parses one file of (multi-document) YAML or JSON into Kubernetes objects. `kind: List` is expanded. */
export function parseManifestFile(
  text: string,
  file: string,
): { ok: true; objects: KubeObject[]; origins: ObjectOrigin[] } | { ok: false; errors: ErrorInfo[] } {
  const parsed = parseYamlStream(text);
  if ("error" in parsed) {
    const { line, column, message } = parsed.error;
    return { ok: false, errors: [new ManifestError(`${file}:${line}: invalid YAML: ${message}`, { file, line, column }).toJSON()] };
  }
  const objects: KubeObject[] = [];
  const origins: ObjectOrigin[] = [];
  const errors: ErrorInfo[] = [];
  parsed.docs.forEach((y, docIndex) => {
    const contents = y.doc.contents;
    const value: unknown = y.doc.toJS();
    if (value === null || value === undefined) return; // an empty document (`---` alone, comments)
    const fail = (path: (string | number)[], what: string) => {
      const line = lineAt(y, path) ?? lineOfNode(y, contents);
      const field = path.join(".");
      errors.push(new ManifestError(`${file}:${line ?? "?"}: ${what}`, { file, ...(line ? { line } : {}), ...(field ? { field } : {}) }).toJSON());
    };
    const check = (v: unknown, path: (string | number)[]): void => {
      if (v === null || typeof v !== "object" || Array.isArray(v)) return fail(path, `document ${docIndex + 1} is not a mapping; a manifest is an object with apiVersion, kind and metadata`);
      const o = v as Record<string, unknown>;
      if (typeof o.kind === "string" && o.kind.endsWith("List") && Array.isArray(o.items)) {
        o.items.forEach((item, i) => check(item, [...path, "items", i]));
        return;
      }
      const missing: string[] = [];
      if (typeof o.apiVersion !== "string" || !o.apiVersion) missing.push("apiVersion");
      if (typeof o.kind !== "string" || !o.kind) missing.push("kind");
      const meta = o.metadata as Record<string, unknown> | undefined;
      if (!meta || typeof meta !== "object" || typeof meta.name !== "string" || !meta.name) missing.push("metadata.name");
      if (missing.length) {
        const what = typeof o.kind === "string" ? `${o.kind}${typeof meta?.name === "string" ? ` ${meta.name}` : ""}` : "object";
        return fail(path, `${what} has no ${missing.join(", ")}; every manifest needs apiVersion, kind and metadata.name`);
      }
      if (meta!.namespace !== undefined && typeof meta!.namespace !== "string") return fail([...path, "metadata", "namespace"], "metadata.namespace must be a string");
      objects.push(o as unknown as KubeObject);
      const lines = new Map<string, number>();
      for (const { field } of imageFields(o as unknown as KubeObject)) {
        const line = lineAt(y, [...path, ...field]);
        if (line) lines.set(JSON.stringify(field), line);
      }
      if (lines.size) imageLines.set(o, lines);
      origins.push({ file, ...lineField(y, path) });
    };
    check(value, []);
  });
  return errors.length ? { ok: false, errors } : { ok: true, objects, origins };
}

function lineField(y: YamlDoc, path: (string | number)[]): { line?: number } {
  const line = lineAt(y, path);
  return line ? { line } : {};
}
