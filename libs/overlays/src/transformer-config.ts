// Which fields the built-in transformers touch: kustomize's defaults plus what `configurations:`
// files add (typically for custom resources). A kustomization uses its own configurations and
// those of every base and component it includes, as kustomize merges them upwards.
import {
  COMMON_ANNOTATION_SPECS,
  COMMON_LABEL_SPECS,
  NAME_REFERENCES,
  NAMESPACE_SPECS,
  REPLICA_SPECS,
  TEMPLATE_LABEL_SPECS,
  VAR_REFERENCE_SPECS,
  type NameReference,
} from "./builtin-config.js";
import { FieldReader } from "./field-reader.js";
import type { FieldSpec } from "./field-spec.js";
import { NAME_AFFIX_SPECS } from "./transformers/name-affix.js";

export interface TransformerConfig {
  /** Fields namePrefix / nameSuffix change (kustomize's default: metadata/name of every object). */
  namePrefix: FieldSpec[];
  nameSuffix: FieldSpec[];
  /** Namespace fields besides metadata.namespace. */
  namespace: FieldSpec[];
  commonLabels: FieldSpec[];
  templateLabels: FieldSpec[];
  commonAnnotations: FieldSpec[];
  /** Image fields besides `containers`/`initContainers` lists (which are always updated). */
  images: FieldSpec[];
  replicas: FieldSpec[];
  nameReferences: NameReference[];
  /** Fields where `$(VAR)` of `vars:` is expanded. */
  varReference: FieldSpec[];
}

export function defaultTransformerConfig(): TransformerConfig {
  return {
    namePrefix: [...NAME_AFFIX_SPECS],
    nameSuffix: [...NAME_AFFIX_SPECS],
    namespace: [...NAMESPACE_SPECS],
    commonLabels: [...COMMON_LABEL_SPECS],
    templateLabels: [...TEMPLATE_LABEL_SPECS],
    commonAnnotations: [...COMMON_ANNOTATION_SPECS],
    images: [],
    replicas: [...REPLICA_SPECS],
    nameReferences: NAME_REFERENCES.map((nr) => ({ target: { ...nr.target }, referrers: [...nr.referrers] })),
    varReference: [...VAR_REFERENCE_SPECS],
  };
}

/** Field specs are never changed once made: their identity keys are computed once. */
const specKeys = new WeakMap<FieldSpec, string>();
function specKey(s: FieldSpec): string {
  let key = specKeys.get(s);
  if (key === undefined) {
    key = JSON.stringify([s.path, s.group ?? "", s.version ?? "", s.kind ?? "", s.create ?? false]);
    specKeys.set(s, key);
  }
  return key;
}

function mergeSpecs(a: FieldSpec[], b: FieldSpec[]): FieldSpec[] {
  const seen = new Set(a.map(specKey));
  const out = [...a];
  for (const s of b) {
    const key = specKey(s);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(s);
  }
  return out;
}

const targetKey = (t: NameReference["target"]) => JSON.stringify([t.kind, t.group ?? "", t.version ?? ""]);

/** Union of two configurations (kustomize's TransformerConfig.Merge). */
export function mergeTransformerConfig(a: TransformerConfig, b: Partial<TransformerConfig>): TransformerConfig {
  const refs = a.nameReferences.map((nr) => ({ target: nr.target, referrers: [...nr.referrers] }));
  for (const nr of b.nameReferences ?? []) {
    const same = refs.find((r) => targetKey(r.target) === targetKey(nr.target));
    if (same) same.referrers = mergeSpecs(same.referrers, nr.referrers);
    else refs.push({ target: nr.target, referrers: [...nr.referrers] });
  }
  return {
    namePrefix: mergeSpecs(a.namePrefix, b.namePrefix ?? []),
    nameSuffix: mergeSpecs(a.nameSuffix, b.nameSuffix ?? []),
    namespace: mergeSpecs(a.namespace, b.namespace ?? []),
    commonLabels: mergeSpecs(a.commonLabels, b.commonLabels ?? []),
    templateLabels: mergeSpecs(a.templateLabels, b.templateLabels ?? []),
    commonAnnotations: mergeSpecs(a.commonAnnotations, b.commonAnnotations ?? []),
    images: mergeSpecs(a.images, b.images ?? []),
    replicas: mergeSpecs(a.replicas, b.replicas ?? []),
    nameReferences: refs,
    varReference: mergeSpecs(a.varReference, b.varReference ?? []),
  };
}

/** One field spec (path, create, group, version, kind) of a configuration or plugin config. */
export function parseSpec(r: FieldReader): FieldSpec {
  r.checkKeys(["path", "create", "group", "version", "kind", "behavior"]);
  const spec: FieldSpec = { path: r.reqString("path") };
  const create = r.optBool("create");
  if (create !== undefined) spec.create = create;
  for (const k of ["group", "version", "kind"] as const) {
    const v = r.optString(k);
    if (v) spec[k] = v;
  }
  return spec;
}

/** Reads one `configurations:` file. */
export function parseTransformerConfig(raw: unknown, file: string): Partial<TransformerConfig> {
  if (raw === null || raw === undefined) return {};
  const top = new FieldReader({}, file);
  const r = top.sub(raw, "");
  r.checkKeys([
    "namePrefix",
    "nameSuffix",
    "nameSpace",
    "commonLabels",
    "templateLabels",
    "commonAnnotations",
    "nameReference",
    "varReference",
    "images",
    "replicas",
  ]);
  const specs = (key: string) => r.list(key).map((v, i) => parseSpec(r.sub(v, `${key}[${i}]`)));
  return {
    namePrefix: specs("namePrefix"),
    nameSuffix: specs("nameSuffix"),
    namespace: specs("nameSpace"),
    commonLabels: specs("commonLabels"),
    templateLabels: specs("templateLabels"),
    commonAnnotations: specs("commonAnnotations"),
    images: specs("images"),
    replicas: specs("replicas"),
    varReference: specs("varReference"),
    nameReferences: r.list("nameReference").map((v, i) => {
      const n = r.sub(v, `nameReference[${i}]`);
      n.checkKeys(["kind", "group", "version", "fieldSpecs"]);
      const target: NameReference["target"] = { kind: n.reqString("kind") };
      const group = n.optString("group");
      if (group) target.group = group;
      const version = n.optString("version");
      if (version) target.version = version;
      return { target, referrers: n.list("fieldSpecs").map((s, j) => parseSpec(n.sub(s, `fieldSpecs[${j}]`))) };
    }),
  };
}
