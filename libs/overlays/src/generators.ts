// configMapGenerator and secretGenerator: literals, files and env files become a ConfigMap or
// Secret, merged into (or replacing) an existing one when `behavior` says so.
import type { KubeObject } from "@flotilla/model";
import { renderFailed } from "./errors.js";
import type { GeneratorArgs, GeneratorOptions, Kustomization } from "./kustomization.js";
import { decodeUtf8, isUtf8, type Loader } from "./loader.js";
import { basename, resolveFileInKustomization } from "./repo-paths.js";
import { newResource, type Resource } from "./resource.js";

interface Entry {
  key: string;
  /** Text value, or raw bytes when the source is not UTF-8. */
  text?: string;
  bytes?: Uint8Array;
}

export function generate(k: Kustomization, loader: Loader): Resource[] {
  const out: Resource[] = [];
  const global = k.generatorOptions;
  k.configMapGenerator.forEach((args, i) => out.push(generateOne(k, args, false, `configMapGenerator[${i}]`, loader, global)));
  k.secretGenerator.forEach((args, i) => out.push(generateOne(k, args, true, `secretGenerator[${i}]`, loader, global)));
  return out;
}

/** Local options with the kustomization's generatorOptions laid over them (global wins, as in kustomize). */
function mergeOptions(local: GeneratorOptions | undefined, global: GeneratorOptions | undefined): GeneratorOptions {
  const o: GeneratorOptions = { ...(local ?? {}) };
  if (!global) return o;
  if (global.labels) o.labels = { ...(o.labels ?? {}), ...global.labels };
  if (global.annotations) o.annotations = { ...(o.annotations ?? {}), ...global.annotations };
  if (global.disableNameSuffixHash) o.disableNameSuffixHash = true;
  if (global.immutable) o.immutable = true;
  return o;
}

/** What a generator's files resolve against: the kustomization's directory, and the file errors name. */
export type GeneratorSite = Pick<Kustomization, "dir" | "file">;

/**
 * One ConfigMap or Secret. `global` is the kustomization's generatorOptions (none for a
 * generator plugin config, which kustomize gives only its own options).
 */
export function generateOne(
  k: GeneratorSite,
  args: GeneratorArgs,
  secret: boolean,
  field: string,
  loader: Loader,
  global: GeneratorOptions | undefined,
): Resource {
  const kindName = secret ? "Secret" : "ConfigMap";
  const entries = collectEntries(k, args, field, loader);
  const seen = new Set<string>();
  for (const e of entries) {
    if (seen.has(e.key)) {
      throw renderFailed(`${kindName.toLowerCase()} ${args.name} illegally repeats the key \`${e.key}\``, { file: k.file, field });
    }
    seen.add(e.key);
  }

  const options = mergeOptions(args.options, global);
  const metadata: KubeObject["metadata"] = { name: args.name };
  if (args.namespace) metadata.namespace = args.namespace;
  if (options.labels && Object.keys(options.labels).length > 0) metadata.labels = { ...options.labels };
  if (options.annotations && Object.keys(options.annotations).length > 0) metadata.annotations = { ...options.annotations };
  const obj: KubeObject = { apiVersion: "v1", kind: kindName, metadata };

  const data: Record<string, string> = {};
  const binaryData: Record<string, string> = {};
  for (const e of entries) {
    if (secret) data[e.key] = secretBase64(e.bytes ?? new TextEncoder().encode(e.text ?? ""));
    else if (e.bytes) binaryData[e.key] = secretBase64(e.bytes); // wrapped like Secret data
    else data[e.key] = e.text ?? "";
  }
  if (Object.keys(data).length > 0) obj.data = data;
  if (Object.keys(binaryData).length > 0) obj.binaryData = binaryData;
  if (secret) obj.type = args.type ?? "Opaque";
  if (options.immutable) obj.immutable = true;

  const res = newResource(obj, k.file);
  res.needsHash = !options.disableNameSuffixHash;
  res.behavior = args.behavior;
  res.generatedBy = secret ? "SecretGenerator" : "ConfigMapGenerator";
  return res;
}

function collectEntries(k: GeneratorSite, args: GeneratorArgs, field: string, loader: Loader): Entry[] {
  const entries: Entry[] = [];
  for (const lit of args.literals) {
    const eq = lit.indexOf("=");
    if (eq <= 0) throw renderFailed(`invalid literal source "${lit}", expected key=value`, { file: k.file, field: `${field}.literals` });
    entries.push({ key: lit.slice(0, eq), text: unquote(lit.slice(eq + 1)) });
  }
  for (const spec of args.files) {
    const eq = spec.indexOf("=");
    let key: string;
    let rel: string;
    if (eq < 0) {
      rel = spec;
      key = basename(spec);
    } else {
      key = spec.slice(0, eq);
      rel = spec.slice(eq + 1);
      if (key === "" || rel === "") {
        throw renderFailed(`invalid file source "${spec}", expected [key=]path`, { file: k.file, field: `${field}.files` });
      }
    }
    const path = resolveFileInKustomization(k.dir, rel, k.file, `${field}.files`);
    const bytes = loader.readBytes(path, { file: k.file, field: `${field}.files` });
    if (!bytes) {
      const what = loader.isDir(path) ? "is a directory, not a file" : "does not exist";
      throw renderFailed(`file source "${rel}" ${what}`, { file: k.file, field: `${field}.files` });
    }
    entries.push(isUtf8(bytes) ? { key, text: decodeUtf8(bytes, path, { file: k.file, field }) } : { key, bytes });
  }
  for (const rel of args.envs) {
    const path = resolveFileInKustomization(k.dir, rel, k.file, `${field}.envs`);
    const text = loader.readText(path, { file: k.file, field: `${field}.envs` });
    entries.push(...parseEnvFile(text, path, k.file, `${field}.envs`));
  }
  return entries;
}

/** `KEY=value` lines; `#` comments and blank lines skipped; a bare `KEY` would read the process environment, which a render never does. */
function parseEnvFile(text: string, path: string, file: string, field: string): Entry[] {
  const out: Entry[] = [];
  text.split("\n").forEach((rawLine, i) => {
    const line = rawLine.replace(/\r$/, "");
    if (line.trim() === "" || line.trimStart().startsWith("#")) return;
    const eq = line.indexOf("=");
    if (eq < 0) {
      throw renderFailed(
        `${path}:${i + 1}: "${line.trim()}" has no value; a render never reads environment variables, write KEY=value`,
        { file, field },
      );
    }
    // Go's unicode.IsSpace, not JavaScript's trim (which also drops U+FEFF).
    const key = line.slice(0, eq).replace(/^[\t\n\v\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]+/, "");
    if (key === "") throw renderFailed(`${path}:${i + 1}: empty key`, { file, field });
    out.push({ key, text: line.slice(eq + 1) });
  });
  return out;
}

function unquote(s: string): string {
  if (s.length >= 2 && ((s.startsWith('"') && s.endsWith('"')) || (s.startsWith("'") && s.endsWith("'")))) return s.slice(1, -1);
  return s;
}

function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString("base64");
}

/**
 * Secret values (and ConfigMap binaryData) as kustomize writes them: base64 cut into 70-character lines, each followed by a
 * newline, once the encoding reaches 70 characters (the API server accepts the newlines).
 */
export function secretBase64(bytes: Uint8Array): string {
  const enc = toBase64(bytes);
  const lineLen = 70;
  if (Math.floor(enc.length / lineLen) + 1 <= 1) return enc;
  let out = "";
  for (let i = 0; i < enc.length; i += lineLen) out += `${enc.slice(i, i + lineLen)}\n`;
  return out;
}
