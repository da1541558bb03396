// Builtin plugin configs, the entries of `generators:` and `transformers:`: objects of
// `apiVersion: builtin` whose kind names one of kustomize's builtin generators or transformers,
// with that plugin's own fields (kustomize's plugin/builtin configs). As kustomize decodes them
// (Go's encoding/json), field names match in any case and unknown fields are ignored. Exec and
// KRM-function plugins (any other apiVersion) and helm are refused, naming the file.
import { ErrorCode } from "@flotilla/model";
import { OverlayError, renderFailed, unsupported } from "../errors.js";
import { canonicalizeFieldNames } from "../field-names.js";
import { FieldReader, parseTarget } from "../field-reader.js";
import type { FieldSpec } from "../field-spec.js";
import {
  parseGenerator,
  parseImage,
  parseReplica,
  type GeneratorArgs,
  type ImageEntry,
  type Json6902Entry,
  type PatchEntry,
  type ReplicaEntry,
} from "../kustomization.js";
import { parseReplacement, type ReplacementEntry } from "../replacement-config.js";
import { parseSpec } from "../transformer-config.js";
import type { RoleBindingSubjects } from "../transformers/namespace.js";
import { isPlainObject } from "../yaml-io.js";

export const BUILTIN_API_VERSION = "builtin";

interface Base {
  /** `kind/name` of the config, for messages. */
  name: string;
  /** The file the config was read from (the kustomization itself for an inline config). */
  source: string;
}

export type GeneratorConfig = Base & {
  kind: "ConfigMapGenerator" | "SecretGenerator";
  args: GeneratorArgs;
  /** The config's metadata.name (origin annotations name it as configuredBy). */
  configName: string;
};

export type TransformerPluginConfig = Base &
  (
    | { kind: "PatchTransformer"; entry: PatchEntry }
    | { kind: "PatchStrategicMergeTransformer"; paths: string[]; patches?: string }
    | { kind: "PatchJson6902Transformer"; entry: Json6902Entry }
    | { kind: "LabelTransformer" | "AnnotationsTransformer"; pairs: Record<string, string>; fieldSpecs: FieldSpec[] }
    | { kind: "PrefixSuffixTransformer"; prefix: string; suffix: string; fieldSpecs: FieldSpec[] }
    | { kind: "NamespaceTransformer"; namespace: string; fieldSpecs: FieldSpec[]; unsetOnly: boolean; roleBindingSubjects: RoleBindingSubjects }
    | { kind: "ImageTagTransformer"; image: ImageEntry; fieldSpecs: FieldSpec[] }
    | { kind: "ReplicaCountTransformer"; replica: ReplicaEntry; fieldSpecs: FieldSpec[] }
    | { kind: "ReplacementTransformer"; replacements: ReplacementEntry[] }
  );

const GENERATORS = ["ConfigMapGenerator", "SecretGenerator"];
const TRANSFORMERS = [
  "PatchTransformer",
  "PatchStrategicMergeTransformer",
  "PatchJson6902Transformer",
  "LabelTransformer",
  "AnnotationsTransformer",
  "PrefixTransformer",
  "SuffixTransformer",
  "PrefixSuffixTransformer",
  "NamespaceTransformer",
  "ImageTagTransformer",
  "ReplicaCountTransformer",
  "ReplacementTransformer",
];
/** Builtins kustomize has that this engine does not run. */
const REFUSED_BUILTINS: Record<string, string> = {
  HelmChartInflationGenerator: "helm charts are not rendered by flotilla; render the chart into plain manifests and list those",
  IAMPolicyGenerator: "IAMPolicyGenerator (GKE) is not supported; write the ServiceAccount it would generate as a plain manifest",
  HashTransformer: "HashTransformer is not supported as a listed plugin; generated ConfigMaps and Secrets get their hash suffix anyway",
  ValueAddTransformer: "ValueAddTransformer (alpha) is not supported; use replacements",
  SortOrderTransformer: "SortOrderTransformer is not supported as a listed plugin; use sortOptions",
};

/** A config object read from a `generators:` / `transformers:` entry. */
export interface PluginObject {
  raw: Record<string, unknown>;
  source: string;
}

type Role = "generators" | "transformers";

function refuseNonBuiltin(o: PluginObject, role: Role, apiVersion: string, kind: string): never {
  const functionPlugin = isPlainObject(o.raw.metadata) && isPlainObject(o.raw.metadata.annotations)
    ? Object.keys(o.raw.metadata.annotations).some((a) => a === "config.kubernetes.io/function" || a === "config.k8s.io/function")
    : false;
  const what = functionPlugin ? "a KRM-function plugin" : "an exec or Go plugin";
  throw unsupported(
    o.source,
    role,
    `${kind || "?"} (apiVersion ${apiVersion || "?"}) is ${what}: flotilla's overlay engine runs only kustomize's builtin plugins ` +
      `(apiVersion: builtin), never external programs or containers; render its output into plain manifests and list them under resources`,
  );
}

/** The builtin kind of a config listed under `role`, refusing what this engine does not run. */
function builtinKind(o: PluginObject, role: Role): string {
  const apiVersion = typeof o.raw.apiVersion === "string" ? o.raw.apiVersion : "";
  const kind = typeof o.raw.kind === "string" ? o.raw.kind : "";
  if (apiVersion !== BUILTIN_API_VERSION) refuseNonBuiltin(o, role, apiVersion, kind);
  const refused = REFUSED_BUILTINS[kind];
  if (refused) throw unsupported(o.source, role, refused);
  const mine = role === "generators" ? GENERATORS : TRANSFORMERS;
  const other = role === "generators" ? TRANSFORMERS : GENERATORS;
  if (other.includes(kind)) {
    throw renderFailed(`plugin ${kind} ${nameOf(o) || "?"} is not a ${role === "generators" ? "generator" : "transformer"}; list it under ${role === "generators" ? "transformers" : "generators"}`, { file: o.source, field: role });
  }
  if (!mine.includes(kind)) throw renderFailed(`unable to load builtin ${kind || "(no kind)"}: not a builtin generator or transformer kustomize runs from a kustomization`, { file: o.source, field: "kind" });
  return kind;
}

function nameOf(o: PluginObject): string {
  return isPlainObject(o.raw.metadata) && typeof o.raw.metadata.name === "string" ? o.raw.metadata.name : "";
}

/** Keeps only the `known` fields (after Go-style case matching): kustomize ignores the rest. */
function reader(o: PluginObject, known: readonly string[]): FieldReader {
  const raw = { ...o.raw };
  canonicalizeFieldNames(raw, known);
  for (const key of Object.keys(raw)) if (!known.includes(key)) delete raw[key];
  return new FieldReader(raw, o.source);
}

const specsOf = (r: FieldReader) => r.list("fieldSpecs").map((v, i) => parseSpec(r.sub(v, `fieldSpecs[${i}]`)));

const META = ["apiVersion", "kind", "metadata"];

export function parseGeneratorConfig(o: PluginObject): GeneratorConfig {
  const kind = builtinKind(o, "generators") as GeneratorConfig["kind"];
  const secret = kind === "SecretGenerator";
  const fields = ["name", "namespace", "behavior", "literals", "files", "envs", "env", "options", ...(secret ? ["type"] : [])];
  const r = reader(o, [...META, ...fields]);
  const meta = isPlainObject(r.raw.metadata) ? r.sub(r.raw.metadata, "metadata") : undefined;
  const args: Record<string, unknown> = {};
  for (const f of fields) if (r.raw[f] !== undefined) args[f] = r.raw[f];
  // The generated object's name and namespace: the config's own fields, else its metadata's.
  if (!args.name && meta) args.name = meta.optString("name");
  if (!args.namespace && meta) args.namespace = meta.optString("namespace");
  return { kind, name: `${kind}/${nameOf(o)}`, configName: nameOf(o), source: o.source, args: parseGenerator(new FieldReader({}, o.source).sub(args, ""), secret) };
}

export function parseTransformerConfig(o: PluginObject): TransformerPluginConfig {
  const kind = builtinKind(o, "transformers");
  const base: Base = { name: `${kind}/${nameOf(o)}`, source: o.source };
  switch (kind) {
    case "PatchTransformer": {
      const r = reader(o, [...META, "path", "patch", "target", "options"]);
      const patch = (r.optString("patch") ?? "").trim();
      const path = r.optString("path") ?? "";
      if (patch === "" && path === "") throw r.bad("patch", "or path must be set");
      if (patch !== "" && path !== "") throw r.bad("patch", "and path can't be set at the same time");
      const options = { allowNameChange: false, allowKindChange: false };
      if (r.raw.options !== undefined && r.raw.options !== null) {
        const opts = r.sub(r.raw.options, "options");
        options.allowNameChange = opts.optBool("allowNameChange") ?? false;
        options.allowKindChange = opts.optBool("allowKindChange") ?? false;
      }
      const entry: PatchEntry = { options, ...(patch ? { patch } : { path }) };
      if (r.raw.target !== undefined && r.raw.target !== null) entry.target = parseTarget(r.sub(r.raw.target, "target"));
      return { ...base, kind, entry };
    }
    case "PatchStrategicMergeTransformer": {
      const r = reader(o, [...META, "paths", "patches"]);
      const paths = r.stringList("paths");
      const patches = r.optString("patches") ?? "";
      if (paths.length === 0 && patches === "") throw r.bad("paths", "and patches are both empty (empty file path and empty patch content)");
      return { ...base, kind, paths, ...(patches ? { patches } : {}) };
    }
    case "PatchJson6902Transformer": {
      const r = reader(o, [...META, "target", "path", "jsonOp"]);
      if (r.raw.target === undefined || r.raw.target === null) throw r.bad("target", "is required (must specify the target name)");
      const target = parseTarget(r.sub(r.raw.target, "target"));
      if (!target.name) throw r.bad("target.name", "is required (must specify the target name)");
      const path = r.optString("path") ?? "";
      const jsonOp = r.optString("jsonOp") ?? "";
      if (path === "" && jsonOp === "") throw r.bad("jsonOp", "or path must be set (empty file path and empty jsonOp)");
      if (path !== "" && jsonOp !== "") throw r.bad("jsonOp", "and path can't be set at the same time");
      return { ...base, kind, entry: { target, ...(path ? { path } : { patch: jsonOp }) } };
    }
    case "LabelTransformer":
    case "AnnotationsTransformer": {
      const field = kind === "LabelTransformer" ? "labels" : "annotations";
      const r = reader(o, [...META, field, "fieldSpecs"]);
      return { ...base, kind, pairs: r.stringMap(field), fieldSpecs: specsOf(r) };
    }
    case "PrefixTransformer":
    case "SuffixTransformer":
    case "PrefixSuffixTransformer": {
      const r = reader(o, [...META, "prefix", "suffix", "fieldSpecs"]);
      if (kind !== "PrefixSuffixTransformer" && (r.raw.fieldSpecs === undefined || r.raw.fieldSpecs === null)) {
        throw r.bad("fieldSpecs", "is required (kustomize: fieldSpecs is not expected to be nil)");
      }
      return {
        ...base,
        kind: "PrefixSuffixTransformer",
        prefix: kind === "SuffixTransformer" ? "" : (r.optString("prefix") ?? ""),
        suffix: kind === "PrefixTransformer" ? "" : (r.optString("suffix") ?? ""),
        fieldSpecs: specsOf(r),
      };
    }
    case "NamespaceTransformer": {
      const r = reader(o, [...META, "fieldSpecs", "unsetOnly", "setRoleBindingSubjects"]);
      const meta = isPlainObject(r.raw.metadata) ? r.sub(r.raw.metadata, "metadata") : undefined;
      const mode = r.optString("setRoleBindingSubjects") ?? "";
      if (mode !== "" && mode !== "defaultOnly" && mode !== "none" && mode !== "allServiceAccounts") {
        throw r.bad("setRoleBindingSubjects", `must be one of "defaultOnly", "none" or "allServiceAccounts" (got "${mode}")`);
      }
      return {
        ...base,
        kind,
        namespace: meta?.optString("namespace") ?? "",
        fieldSpecs: specsOf(r),
        unsetOnly: r.optBool("unsetOnly") ?? false,
        roleBindingSubjects: (mode || "defaultOnly") as RoleBindingSubjects,
      };
    }
    case "ImageTagTransformer": {
      const r = reader(o, [...META, "imageTag", "fieldSpecs"]);
      if (!isPlainObject(r.raw.imageTag)) throw r.bad("imageTag", "is required (a mapping with name and newName, newTag or digest)");
      return { ...base, kind, image: parseImage(r.sub(r.raw.imageTag, "imageTag")), fieldSpecs: specsOf(r) };
    }
    case "ReplicaCountTransformer": {
      const r = reader(o, [...META, "replica", "fieldSpecs"]);
      if (!isPlainObject(r.raw.replica)) throw r.bad("replica", "is required (a mapping with name and count)");
      return { ...base, kind, replica: parseReplica(r.sub(r.raw.replica, "replica")), fieldSpecs: specsOf(r) };
    }
    case "ReplacementTransformer": {
      const r = reader(o, [...META, "replacements"]);
      const replacements = r.list("replacements").map((v, i): ReplacementEntry => {
        const e = r.sub(v, `replacements[${i}]`);
        canonicalizeFieldNames(e.raw, ["path", "source", "targets"]);
        if (e.raw.path !== undefined && e.raw.path !== null) return { path: e.reqString("path") };
        return { inline: parseReplacement(e) };
      });
      return { ...base, kind, replacements };
    }
    default:
      throw new OverlayError(ErrorCode.RenderFailed, `unable to load builtin ${kind}`, { file: o.source, field: "kind" });
  }
}
