// renderKustomization: one kustomization directory in, objects out — the equivalent of
// `kubectl kustomize <dir>` (kustomize v5.5), checked against it by the conformance suite.
// Failures come back as a result, never as an exception.
//
// Supported kustomization fields: resources (+ legacy bases), components, namespace, namePrefix,
// nameSuffix, commonLabels, labels, commonAnnotations, images, replicas, patches,
// patchesStrategicMerge, patchesJson6902, configMapGenerator, secretGenerator, generatorOptions,
// replacements, sortOptions, vars, buildMetadata (originAnnotations, managedByLabel), openapi
// (custom schemas' merge keys for strategic merge patches, see openapi.ts),
// configurations (field specs of every transformer, namePrefix/nameSuffix included), and
// generators/transformers with builtin plugin configs (src/plugins).
// Refused with an error naming file and field: remote bases, crds, validators, exec and
// KRM-function plugins, helm*, buildMetadata transformerAnnotations, and any field kustomize
// itself does not know.
import type { KubeObject } from "@flotilla/model";
import { ErrorCode } from "@flotilla/model";
import { Accumulator, type ConfigHolder } from "./accumulate.js";
import { OverlayError } from "./errors.js";
import type { FileView } from "./file-view.js";
import { contentHash } from "./hash.js";
import { DEFAULT_LIMITS, Loader } from "./loader.js";
import { fixNameReferences } from "./name-references.js";
import { normalize } from "./repo-paths.js";
import { storePreviousId } from "./resource.js";
import { applyBuildMetadata } from "./build-metadata.js";
import { sortResources } from "./sort.js";
import { resolveVars } from "./vars.js";
import { defaultTransformerConfig } from "./transformer-config.js";

export interface RenderOptions {
  /** Most objects one render may produce (default 20000). */
  maxObjects?: number;
  /** Largest file the render reads, in bytes (default 8 MiB). */
  maxFileBytes?: number;
  /** Deepest nesting of kustomizations (default 64). */
  maxDepth?: number;
}

export type RenderResult =
  | { ok: true; objects: KubeObject[]; readPaths: string[] }
  | { ok: false; error: OverlayError; readPaths: string[] };

export function renderKustomization(view: FileView, dir: string, options: RenderOptions = {}): RenderResult {
  const loader = new Loader(view, {
    maxObjects: options.maxObjects ?? DEFAULT_LIMITS.maxObjects,
    maxFileBytes: options.maxFileBytes ?? DEFAULT_LIMITS.maxFileBytes,
    maxDepth: options.maxDepth ?? DEFAULT_LIMITS.maxDepth,
  });
  const readPaths = () => [...loader.readPaths].sort();
  try {
    const root = normalize(dir.replace(/^\/+/, ""));
    if (root === undefined) {
      throw new OverlayError(ErrorCode.PathEscapesRepo, `directory "${dir}" escapes the repository root`);
    }
    // 1. Load and build the target kustomization (recursively through its bases and components).
    const k = loader.loadKustomization(root);
    loader.openapi.enter(k, loader, true);
    // A Component built directly (`kustomize build comp/`) is built like a Kustomization: its
    // resources and generators start an empty list that its own transformers then change.
    const config: ConfigHolder = { value: defaultTransformerConfig(), vars: [] };
    const resources = new Accumulator(loader).build(k, [], config);

    // 2. Only at the top: append content hashes to generated names, then repair every
    //    reference to a renamed object.
    for (const r of resources) {
      if (!r.needsHash) continue;
      storePreviousId(r);
      r.obj.metadata.name = `${r.obj.metadata.name}-${contentHash(r.obj)}`;
    }
    fixNameReferences(resources, config.value.nameReferences, k.file);
    // 3. With every name final, vars take their values and `$(NAME)` references expand.
    resolveVars(resources, config.vars, config.value.varReference, k.file);
    applyBuildMetadata(resources, k);

    // 4. kustomize's output order; like kustomize, annotation values leave as strings.
    const objects = sortResources(resources, k.sortOptions).map((r) => finish(r.obj));
    return { ok: true, objects, readPaths: readPaths() };
  } catch (err) {
    return { ok: false, error: toOverlayError(err), readPaths: readPaths() };
  }
}

/** Output form: a missing apiVersion stays missing (it is "" inside the build); annotation values are strings. */
function finish(obj: KubeObject): KubeObject {
  if (obj.apiVersion === "") delete (obj as { apiVersion?: string }).apiVersion;
  const annotations = obj.metadata.annotations as Record<string, unknown> | undefined;
  if (annotations && typeof annotations === "object") {
    for (const [k, v] of Object.entries(annotations)) {
      if (typeof v === "number" || typeof v === "boolean") annotations[k] = String(v);
    }
  }
  return obj;
}

function toOverlayError(err: unknown): OverlayError {
  if (err instanceof OverlayError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new OverlayError(ErrorCode.RenderFailed, `render failed: ${message}`, {}, err);
}
