// Reading and checking one kustomization file. Every field kustomize knows is either parsed here
// into a typed value or refused with an error naming the file and the field; unknown fields are
// refused like kustomize refuses them.
import { renderFailed, unsupported } from "./errors.js";
import { canonicalizeFieldNames } from "./field-names.js";
import { FieldReader, parseTarget } from "./field-reader.js";
import type { FieldSpec } from "./field-spec.js";
import type { PatchTarget } from "./patch/index.js";
import { parseReplacement, type ReplacementEntry } from "./replacement-config.js";
import { parseVar, type VarDecl } from "./vars.js";
import { isPlainObject, parseYamlDocument } from "./yaml-io.js";

export const KUSTOMIZATION_FILE_NAMES = ["kustomization.yaml", "kustomization.yml", "Kustomization"] as const;
export const KUSTOMIZATION_API_VERSION = "kustomize.config.k8s.io/v1beta1";
export const COMPONENT_API_VERSION = "kustomize.config.k8s.io/v1alpha1";

export interface LabelEntry {
  pairs: Record<string, string>;
  includeSelectors: boolean;
  includeTemplates: boolean;
  fields: FieldSpec[];
}

export interface ImageEntry {
  name: string;
  newName?: string;
  newTag?: string;
  digest?: string;
}

export interface ReplicaEntry {
  name: string;
  count: number;
}

export interface PatchEntry {
  path?: string;
  patch?: string;
  target?: PatchTarget;
  options: { allowNameChange: boolean; allowKindChange: boolean };
}

export interface Json6902Entry {
  target: PatchTarget;
  path?: string;
  patch?: string;
}

export interface GeneratorOptions {
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  disableNameSuffixHash?: boolean;
  immutable?: boolean;
}

export interface GeneratorArgs {
  name: string;
  namespace?: string;
  behavior: "create" | "merge" | "replace";
  literals: string[];
  files: string[];
  envs: string[];
  /** Secrets only. */
  type?: string;
  options?: GeneratorOptions;
}

export interface SortOptions {
  order: "legacy" | "fifo";
  orderFirst?: string[];
  orderLast?: string[];
}

export interface Kustomization {
  /** Repo path of the kustomization file. */
  file: string;
  /** Repo path of its directory. */
  dir: string;
  kind: "Kustomization" | "Component";
  resources: string[];
  components: string[];
  namespace?: string;
  namePrefix?: string;
  nameSuffix?: string;
  commonLabels: Record<string, string>;
  labels: LabelEntry[];
  commonAnnotations: Record<string, string>;
  images: ImageEntry[];
  replicas: ReplicaEntry[];
  patches: PatchEntry[];
  patchesStrategicMerge: string[];
  patchesJson6902: Json6902Entry[];
  configMapGenerator: GeneratorArgs[];
  secretGenerator: GeneratorArgs[];
  generatorOptions?: GeneratorOptions;
  sortOptions?: SortOptions;
  replacements: ReplacementEntry[];
  /** Transformer configuration files (field specs for custom resources). */
  configurations: string[];
  vars: VarDecl[];
  /** Builtin generator plugin configs: files, directories or inline YAML (run after configMapGenerator/secretGenerator). */
  generators: string[];
  /** Builtin transformer plugin configs, run in order after the kustomization's own transformers. */
  transformers: string[];
  /** Build options; only the kustomization being built reads them (kustomize ignores a base's). */
  buildMetadata: string[];
  /** kustomize's `openapi:` field: a schema file (merge keys of custom resources) or a builtin version. */
  openapi: { path?: string; version?: string };
}

/** Fields kustomize accepts that this engine refuses (unless empty). */
const KNOWN_UNSUPPORTED = [
  "crds",
  "validators",
  "helmCharts",
  "helmGlobals",
  "helmChartInflationGenerator",
];

/** Fields of a `replacements:` entry: a file, or one replacement written inline. */
const REPLACEMENT_ENTRY_FIELDS = ["path", "source", "targets"] as const;

const SUPPORTED = new Set([
  "apiVersion",
  "kind",
  "metadata",
  "resources",
  "bases",
  "components",
  "namespace",
  "namePrefix",
  "nameSuffix",
  "commonLabels",
  "labels",
  "commonAnnotations",
  "images",
  // Deprecated spelling of images; kustomize appends its entries after those of images.
  "imageTags",
  "replicas",
  "patches",
  "patchesStrategicMerge",
  "patchesJson6902",
  "configMapGenerator",
  "secretGenerator",
  "generatorOptions",
  "sortOptions",
  "replacements",
  "configurations",
  "vars",
  "buildMetadata",
  "generators",
  "transformers",
  "openapi",
]);

/** Every field name kustomize knows, for matching keys written in another case. */
const KNOWN_FIELDS: readonly string[] = [...SUPPORTED, ...KNOWN_UNSUPPORTED];

export function parseKustomization(text: string, file: string, dir: string): Kustomization {
  return parseKustomizationValue(parseYamlDocument(text, file), file, dir);
}

/** parseKustomization for the already parsed document of the file. */
export function parseKustomizationValue(raw: unknown, file: string, dir: string): Kustomization {
  if (!isPlainObject(raw)) throw renderFailed("a kustomization must be a YAML mapping", { file });
  canonicalizeFieldNames(raw, KNOWN_FIELDS);
  const p = new FieldReader(raw, file);
  // kustomize refuses a kustomization that says nothing beyond apiVersion/kind.
  if (Object.keys(raw).every((key) => key === "apiVersion" || key === "kind")) {
    throw renderFailed(`${basenameOf(file)} is empty`, { file });
  }

  for (const key of Object.keys(raw)) {
    if (SUPPORTED.has(key)) continue;
    const value = raw[key];
    const empty = value === null || (Array.isArray(value) && value.length === 0) || (isPlainObject(value) && Object.keys(value).length === 0);
    if (KNOWN_UNSUPPORTED.includes(key)) {
      if (empty) continue;
      if (key === "crds") {
        throw unsupported(file, key, 'the legacy kustomization field "crds" is not supported by flotilla\'s overlay engine; write its name references as configurations: field specs and its merge keys as an openapi: schema');
      }
      throw unsupported(file, key, `the kustomization field "${key}" is not supported by flotilla's overlay engine; remove it or render it into plain manifests`);
    }
    throw unsupported(file, key, `unknown kustomization field "${key}"`);
  }

  const kindRaw = p.optString("kind") ?? "";
  const apiVersion = p.optString("apiVersion") ?? "";
  let kind: Kustomization["kind"];
  if (kindRaw === "" || kindRaw === "Kustomization") {
    kind = "Kustomization";
    if (apiVersion !== "" && apiVersion !== KUSTOMIZATION_API_VERSION) {
      throw renderFailed(`apiVersion for Kustomization should be ${KUSTOMIZATION_API_VERSION}`, { file, field: "apiVersion" });
    }
  } else if (kindRaw === "Component") {
    kind = "Component";
    if (apiVersion !== "" && apiVersion !== COMPONENT_API_VERSION) {
      throw renderFailed(`apiVersion for Component should be ${COMPONENT_API_VERSION}`, { file, field: "apiVersion" });
    }
  } else {
    throw renderFailed(`kind should be Kustomization or Component, not "${kindRaw}"`, { file, field: "kind" });
  }

  const k: Kustomization = {
    file,
    dir,
    kind,
    resources: [...p.stringList("resources"), ...p.stringList("bases")],
    components: p.stringList("components"),
    commonLabels: p.stringMap("commonLabels"),
    labels: p.list("labels").map((v, i) => parseLabel(p.sub(v, `labels[${i}]`))),
    commonAnnotations: p.stringMap("commonAnnotations"),
    images: [
      ...p.list("images").map((v, i) => parseImage(p.sub(v, `images[${i}]`))),
      ...p.list("imageTags").map((v, i) => parseImage(p.sub(v, `imageTags[${i}]`))),
    ],
    replicas: p.list("replicas").map((v, i) => parseReplica(p.sub(v, `replicas[${i}]`))),
    patches: p.list("patches").map((v, i) => parsePatch(p.sub(v, `patches[${i}]`))),
    patchesStrategicMerge: p.stringList("patchesStrategicMerge"),
    patchesJson6902: p.list("patchesJson6902").map((v, i) => parseJson6902(p.sub(v, `patchesJson6902[${i}]`))),
    configMapGenerator: p.list("configMapGenerator").map((v, i) => parseGenerator(p.sub(v, `configMapGenerator[${i}]`), false)),
    secretGenerator: p.list("secretGenerator").map((v, i) => parseGenerator(p.sub(v, `secretGenerator[${i}]`), true)),
    configurations: p.stringList("configurations"),
    vars: p.list("vars").map((v, i) => parseVar(p.sub(v, `vars[${i}]`), file)),
    buildMetadata: p.stringList("buildMetadata"),
    openapi: {},
    generators: p.stringList("generators"),
    transformers: p.stringList("transformers"),
    replacements: p.list("replacements").map((v, i) => {
      const r = p.sub(v, `replacements[${i}]`);
      canonicalizeFieldNames(r.raw, REPLACEMENT_ENTRY_FIELDS);
      if (r.raw.path !== undefined) {
        r.checkKeys(["path"]);
        return { path: r.reqString("path") };
      }
      return { inline: parseReplacement(r) };
    }),
  };
  if (raw.openapi !== undefined && raw.openapi !== null) k.openapi = parseOpenApi(p.sub(raw.openapi, "openapi"));
  const ns = p.optString("namespace");
  if (ns) k.namespace = ns;
  const prefix = p.optString("namePrefix");
  if (prefix) k.namePrefix = prefix;
  const suffix = p.optString("nameSuffix");
  if (suffix) k.nameSuffix = suffix;
  if (raw.generatorOptions !== undefined && raw.generatorOptions !== null) {
    k.generatorOptions = parseGeneratorOptions(p.sub(raw.generatorOptions, "generatorOptions"));
  }
  if (raw.sortOptions !== undefined && raw.sortOptions !== null) {
    k.sortOptions = parseSortOptions(p.sub(raw.sortOptions, "sortOptions"));
  }
  if (raw.metadata !== undefined && raw.metadata !== null && !isPlainObject(raw.metadata)) {
    throw p.bad("metadata", "must be a mapping");
  }
  return k;
}

function basenameOf(path: string): string {
  return path.slice(path.lastIndexOf("/") + 1);
}

function parseFieldSpec(r: FieldReader): FieldSpec {
  r.checkKeys(["path", "create", "group", "version", "kind"]);
  const spec: FieldSpec = { path: r.reqString("path") };
  const create = r.optBool("create");
  if (create !== undefined) spec.create = create;
  for (const k of ["group", "version", "kind"] as const) {
    const v = r.optString(k);
    if (v) spec[k] = v;
  }
  return spec;
}

/** kustomize reads `openapi` as a map of strings and uses only `path` and `version`. */
function parseOpenApi(r: FieldReader): Kustomization["openapi"] {
  const out: Kustomization["openapi"] = {};
  for (const [key, v] of Object.entries(r.raw)) {
    if (v !== null && typeof v !== "string") throw r.bad(key, "must be a string");
  }
  const path = r.optString("path");
  if (path !== undefined) out.path = path;
  const version = r.optString("version");
  if (version !== undefined) out.version = version;
  return out;
}

function parseLabel(r: FieldReader): LabelEntry {
  r.checkKeys(["pairs", "includeSelectors", "includeTemplates", "fields"]);
  return {
    pairs: r.stringMap("pairs"),
    includeSelectors: r.optBool("includeSelectors") ?? false,
    includeTemplates: r.optBool("includeTemplates") ?? false,
    fields: r.list("fields").map((v, i) => parseFieldSpec(r.sub(v, `fields[${i}]`))),
  };
}

export function parseImage(r: FieldReader): ImageEntry {
  r.checkKeys(["name", "newName", "newTag", "digest"]);
  const img: ImageEntry = { name: r.reqString("name") };
  const newName = r.optString("newName");
  if (newName) img.newName = newName;
  // An unquoted numeric tag (`newTag: 1.20`) is refused, as kustomize refuses it: 1.20 would be 1.2.
  const newTag = r.optString("newTag");
  if (newTag) img.newTag = newTag;
  const digest = r.optString("digest");
  if (digest) img.digest = digest;
  return img;
}

export function parseReplica(r: FieldReader): ReplicaEntry {
  r.checkKeys(["name", "count"]);
  const count = r.raw.count;
  if (typeof count !== "number" || !Number.isInteger(count) || count < 0) throw r.bad("count", "must be a non-negative integer");
  return { name: r.reqString("name"), count };
}


function parsePatch(r: FieldReader): PatchEntry {
  r.checkKeys(["path", "patch", "target", "options"]);
  const entry: PatchEntry = { options: { allowNameChange: false, allowKindChange: false } };
  const path = r.optString("path");
  const patch = r.optString("patch");
  if (path) entry.path = path;
  if (patch !== undefined && patch.trim() !== "") entry.patch = patch;
  if (!entry.path && !entry.patch) throw r.bad("patch", "or path must be set");
  if (entry.path && entry.patch) throw r.bad("patch", "and path can't be set at the same time");
  if (r.raw.target !== undefined && r.raw.target !== null) entry.target = parseTarget(r.sub(r.raw.target, "target"));
  if (r.raw.options !== undefined && r.raw.options !== null) {
    const o = r.sub(r.raw.options, "options");
    o.checkKeys(["allowNameChange", "allowKindChange"]);
    entry.options.allowNameChange = o.optBool("allowNameChange") ?? false;
    entry.options.allowKindChange = o.optBool("allowKindChange") ?? false;
  }
  return entry;
}

function parseJson6902(r: FieldReader): Json6902Entry {
  r.checkKeys(["target", "path", "patch"]);
  if (r.raw.target === undefined || r.raw.target === null) throw r.bad("target", "is required for a JSON 6902 patch");
  const entry: Json6902Entry = { target: parseTarget(r.sub(r.raw.target, "target")) };
  const path = r.optString("path");
  const patch = r.optString("patch");
  if (path) entry.path = path;
  if (patch !== undefined && patch.trim() !== "") entry.patch = patch;
  if (!entry.path && !entry.patch) throw r.bad("patch", "or path must be set");
  if (entry.path && entry.patch) throw r.bad("patch", "and path can't be set at the same time");
  return entry;
}

function parseGeneratorOptions(r: FieldReader): GeneratorOptions {
  r.checkKeys(["labels", "annotations", "disableNameSuffixHash", "immutable"]);
  const o: GeneratorOptions = {};
  if (r.raw.labels != null) o.labels = r.stringMap("labels");
  if (r.raw.annotations != null) o.annotations = r.stringMap("annotations");
  const d = r.optBool("disableNameSuffixHash");
  if (d !== undefined) o.disableNameSuffixHash = d;
  const im = r.optBool("immutable");
  if (im !== undefined) o.immutable = im;
  return o;
}

export function parseGenerator(r: FieldReader, secret: boolean): GeneratorArgs {
  r.checkKeys(["name", "namespace", "behavior", "literals", "files", "envs", "env", "options", ...(secret ? ["type"] : [])]);
  const behavior = r.optString("behavior") ?? "create";
  if (behavior !== "create" && behavior !== "merge" && behavior !== "replace") {
    throw r.bad("behavior", `must be create, merge or replace (got "${behavior}")`);
  }
  const g: GeneratorArgs = {
    name: r.reqString("name"),
    behavior,
    literals: r.stringList("literals"),
    files: r.stringList("files"),
    envs: r.stringList("envs"),
  };
  const env = r.optString("env");
  if (env) g.envs.push(env);
  const ns = r.optString("namespace");
  if (ns) g.namespace = ns;
  if (secret) {
    const type = r.optString("type");
    if (type) g.type = type;
  }
  if (r.raw.options !== undefined && r.raw.options !== null) g.options = parseGeneratorOptions(r.sub(r.raw.options, "options"));
  return g;
}

function parseSortOptions(r: FieldReader): SortOptions {
  r.checkKeys(["order", "legacySortOptions"]);
  const order = r.optString("order");
  if (order !== "legacy" && order !== "fifo") throw r.bad("order", "must be one of [fifo, legacy]");
  const out: SortOptions = { order };
  if (r.raw.legacySortOptions !== undefined && r.raw.legacySortOptions !== null) {
    if (order !== "legacy") throw r.bad("legacySortOptions", `is set but the selected sort order is '${order}', not 'legacy'`);
    const l = r.sub(r.raw.legacySortOptions, "legacySortOptions");
    l.checkKeys(["orderFirst", "orderLast"]);
    out.orderFirst = l.stringList("orderFirst");
    out.orderLast = l.stringList("orderLast");
  }
  return out;
}
