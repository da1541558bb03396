// Kustomize semantics of `patches`, `patchesStrategicMerge` and `patchesJson6902`: where a patch
// comes from (file or inline), whether it is a strategic-merge or a JSON 6902 patch, and which
// objects it applies to. Applying one patch to one object is the patch engine's job.
import type { KubeObject } from "@flotilla/model";
import { OverlayError, renderFailed } from "./errors.js";
import type { Json6902Entry, Kustomization, PatchEntry } from "./kustomization.js";
import type { Loader } from "./loader.js";
import { applyJson6902, applyStrategicMergePatch, selectTargets, type PatchTarget } from "./patch/index.js";
import { resolveFileInKustomization } from "./repo-paths.js";
import {
  allIds,
  curId,
  describeId,
  idEquals,
  orgId,
  splitApiVersion,
  storePreviousId,
  type ResId,
  type Resource,
} from "./resource.js";
import { documentsOfText } from "./parse-cache.js";
import { isPlainObject } from "./yaml-io.js";

type Where = { file: string; field: string };
/** What a patch's files resolve against: the kustomization's directory, and the file errors name. */
export type PatchSite = Pick<Kustomization, "dir" | "file">;

interface LoadedPatch {
  where: Where;
  /** Where the patch text came from (the patch file, or the kustomization for inline patches). */
  source: string;
  smp?: Record<string, unknown>[];
  json6902?: unknown[];
}

interface PatchText {
  text: string;
  source: string;
  /** The YAML documents of `text` (a fresh copy, parsed once per distinct content). */
  parse: () => unknown[];
}

function loadPatchText(k: PatchSite, entry: { path?: string; patch?: string }, field: string, loader: Loader): PatchText {
  if (entry.path) {
    const path = resolveFileInKustomization(k.dir, entry.path, k.file, field);
    const from = { file: k.file, field };
    const bytes = loader.readBytes(path, from);
    if (!bytes) throw renderFailed(`file "${path}" does not exist`, from);
    const text = loader.textOf(bytes, path, from);
    return { text, source: path, parse: () => loader.documentsOf(bytes, text, path) };
  }
  const text = entry.patch ?? "";
  return { text, source: k.file, parse: () => documentsOfText(text, k.file) };
}

/** Decides SMP vs JSON 6902 the way kustomize does: a list of operations is JSON 6902, mappings are SMPs. */
function classify({ text, source, parse }: PatchText, where: Where): LoadedPatch {
  const trimmed = text.trim();
  if (trimmed === "") throw renderFailed("empty patch", where);
  let docs: unknown[];
  try {
    docs = trimmed.startsWith("[") ? parseJsonOrYaml(trimmed, parse) : parse();
  } catch (err) {
    // Line numbers of an inline patch count from the patch text, not from the kustomization.
    if (err instanceof OverlayError && source === where.file) {
      throw new OverlayError(err.code, `inline patch${err.line ? `, line ${err.line} of the patch text` : ""}: ${err.reason}`, where, err);
    }
    throw err;
  }
  if (docs.length === 1 && Array.isArray(docs[0])) {
    const ops = docs[0] as unknown[];
    ops.forEach((op, i) => {
      if (!isPlainObject(op) || typeof op.op !== "string" || typeof op.path !== "string") {
        throw renderFailed(`JSON 6902 patch operation ${i} needs "op" and "path"`, where);
      }
    });
    return { where, source, json6902: ops };
  }
  const smp: Record<string, unknown>[] = [];
  for (const d of docs) {
    if (!isPlainObject(d)) throw renderFailed("unable to parse SM or JSON patch: a document is neither a mapping nor a list of operations", where);
    if (typeof d.kind === "string" && d.kind.endsWith("List") && Array.isArray(d.items)) {
      for (const item of d.items) if (isPlainObject(item)) smp.push(item);
    } else smp.push(d);
  }
  if (smp.length === 0) throw renderFailed("empty patch", where);
  return { where, source, smp };
}

function parseJsonOrYaml(trimmed: string, parse: () => unknown[]): unknown[] {
  try {
    return [JSON.parse(trimmed)];
  } catch {
    return parse();
  }
}

function patchId(patch: Record<string, unknown>): ResId {
  const meta = isPlainObject(patch.metadata) ? patch.metadata : {};
  const { group, version } = splitApiVersion(typeof patch.apiVersion === "string" ? patch.apiVersion : "");
  return {
    group,
    version,
    kind: typeof patch.kind === "string" ? patch.kind : "",
    name: typeof meta.name === "string" ? meta.name : "",
    namespace: typeof meta.namespace === "string" ? meta.namespace : "",
  };
}

/** Resources selected by a patch target, matching current or original names/namespaces like kustomize. */
function selectResources(resources: Resource[], target: PatchTarget): Resource[] {
  const originals = resources.map((r) => {
    const o = orgId(r);
    return { name: o.name, namespace: o.namespace };
  });
  const picked = new Set(
    selectTargets(
      resources.map((r) => r.obj),
      target,
      originals,
    ),
  );
  return resources.filter((_, i) => picked.has(i));
}

/** The unique resource a target-less SMP names (by any id it has had). */
function findById(resources: Resource[], patch: Record<string, unknown>, where: Where): Resource {
  const id = patchId(patch);
  if (!id.kind || !id.name) throw renderFailed("a strategic merge patch without a target needs kind and metadata.name", where);
  const matches = resources.filter((r) => allIds(r).some((rid) => idEquals(rid, id)));
  if (matches.length === 0) {
    throw renderFailed(
      `no resource matches strategic merge patch "${describeId(id)}" (without a target, apiVersion, kind, name and namespace must match an object of this build; or give the patch a target)`,
      where,
    );
  }
  if (matches.length > 1) throw renderFailed(`several resources match strategic merge patch "${describeId(id)}"`, where);
  return matches[0] as Resource;
}

function wrapPatchError(err: unknown, where: Where, r: Resource): never {
  if (err instanceof Error && err.name === "OverlayError") throw err;
  const message = err instanceof Error ? err.message : String(err);
  throw renderFailed(`patching ${describeId(curId(r))} failed: ${message}`, where, err);
}

function applySmpTo(
  resources: Resource[],
  r: Resource,
  patch: Record<string, unknown>,
  options: PatchEntry["options"],
  where: Where,
  loader: Loader,
): void {
  if (patch.$patch === "delete") {
    resources.splice(resources.indexOf(r), 1);
    return;
  }
  const copy = structuredClone(patch);
  const meta: Record<string, unknown> = isPlainObject(copy.metadata) ? copy.metadata : {};
  copy.metadata = meta;
  if (!options.allowNameChange || meta.name === undefined) {
    meta.name = r.obj.metadata.name;
    if (r.obj.metadata.namespace !== undefined) meta.namespace = r.obj.metadata.namespace;
    else delete meta.namespace;
  }
  if (!options.allowKindChange || copy.kind === undefined) {
    copy.kind = r.obj.kind;
    copy.apiVersion = r.obj.apiVersion;
  }
  let result: KubeObject;
  try {
    result = applyStrategicMergePatch(r.obj, copy, { ...options, schemas: loader.openapi });
  } catch (err) {
    wrapPatchError(err, where, r);
  }
  if (!result || !isPlainObject(result) || Object.keys(result).length === 0) {
    resources.splice(resources.indexOf(r), 1);
    return;
  }
  replaceObject(r, result, where);
}

function replaceObject(r: Resource, result: KubeObject, where: Where): void {
  const before = curId(r);
  const meta = isPlainObject(result.metadata) ? result.metadata : undefined;
  if (!meta || typeof meta.name !== "string" || meta.name === "") {
    throw renderFailed(`patching ${describeId(before)} removed its metadata.name`, where);
  }
  const after = { ...before, kind: result.kind, name: meta.name, namespace: (meta.namespace as string | undefined) ?? "" };
  if (after.kind !== before.kind || after.name !== before.name || after.namespace !== before.namespace || result.apiVersion !== r.obj.apiVersion) {
    storePreviousId(r);
  }
  r.obj = result;
}

function applyLoaded(
  resources: Resource[],
  loaded: LoadedPatch,
  target: PatchTarget | undefined,
  options: PatchEntry["options"],
  loader: Loader,
): void {
  const { where } = loaded;
  if (loaded.json6902) {
    if (!target) throw renderFailed("a JSON 6902 patch needs a target", where);
    for (const r of selectResources(resources, target)) {
      try {
        replaceObject(r, applyJson6902WithAnnotations(r.obj, loaded.json6902), where);
        // kustomize round-trips the object through JSON here, which unshares label values.
        r.sharedValues = new Map();
      } catch (err) {
        wrapPatchError(err, where, r);
      }
    }
    return;
  }
  for (const patch of loaded.smp ?? []) {
    const targets = target ? selectResources(resources, target) : [findById(resources, patch, where)];
    for (const r of targets) applySmpTo(resources, r, patch, options, where, loader);
  }
}

/**
 * During a build kustomize keeps internal bookkeeping annotations on every object, so
 * `/metadata/annotations` always exists when a JSON 6902 patch runs and `add
 * /metadata/annotations/x` succeeds on an object without annotations. Reproduce that, and drop
 * the map again when it stays empty.
 */
function applyJson6902WithAnnotations(obj: KubeObject, ops: unknown[]): KubeObject {
  const hadAnnotations = obj.metadata.annotations !== undefined;
  const input = hadAnnotations ? obj : { ...obj, metadata: { ...obj.metadata, annotations: {} } };
  const result = applyJson6902(input, ops);
  const meta = isPlainObject(result.metadata) ? result.metadata : undefined;
  if (!hadAnnotations && meta && isPlainObject(meta.annotations) && Object.keys(meta.annotations).length === 0) {
    delete meta.annotations;
  }
  return result;
}

const NO_OPTIONS: PatchEntry["options"] = { allowNameChange: false, allowKindChange: false };

/** Heuristic for a patchesStrategicMerge entry: a file path unless it is obviously inline YAML. */
export function looksInline(entry: string): boolean {
  return entry.includes("\n") || /^\s*[\w$.-]+\s*:\s/.test(entry) || entry.trim().startsWith("{");
}

/** One strategic-merge patch source (file or inline text) applied to the objects its documents name. */
export function applyStrategicMergeEntry(
  resources: Resource[],
  k: PatchSite,
  entry: { path?: string; patch?: string },
  where: Where,
  loader: Loader,
  what = "patchesStrategicMerge entries",
): void {
  const loaded = classify(loadPatchText(k, entry, where.field, loader), where);
  if (!loaded.smp) throw renderFailed(`${what} must be strategic merge patches`, where);
  applyLoaded(resources, loaded, undefined, NO_OPTIONS, loader);
}

/** One `patches:` entry: a strategic-merge or JSON 6902 patch, for its target or the objects it names. */
export function applyPatchEntry(resources: Resource[], k: PatchSite, entry: PatchEntry, where: Where, loader: Loader): void {
  applyLoaded(resources, classify(loadPatchText(k, entry, where.field, loader), where), entry.target, entry.options, loader);
}

/** One JSON 6902 patch (file or inline operations) applied to the objects its target selects. */
export function applyJson6902Entry(
  resources: Resource[],
  k: PatchSite,
  entry: Json6902Entry,
  where: Where,
  loader: Loader,
  what = "patchesJson6902 entries",
): void {
  const loaded = classify(loadPatchText(k, entry, where.field, loader), where);
  if (!loaded.json6902) throw renderFailed(`${what} must be lists of JSON 6902 operations`, where);
  applyLoaded(resources, loaded, entry.target, NO_OPTIONS, loader);
}

export function applyPatchesStrategicMerge(resources: Resource[], k: Kustomization, loader: Loader): void {
  k.patchesStrategicMerge.forEach((entry, i) => {
    const where = { file: k.file, field: `patchesStrategicMerge[${i}]` };
    applyStrategicMergeEntry(resources, k, looksInline(entry) ? { patch: entry } : { path: entry }, where, loader);
  });
}

export function applyPatches(resources: Resource[], k: Kustomization, loader: Loader): void {
  k.patches.forEach((entry, i) => applyPatchEntry(resources, k, entry, { file: k.file, field: `patches[${i}]` }, loader));
}

export function applyPatchesJson6902(resources: Resource[], k: Kustomization, loader: Loader): void {
  k.patchesJson6902.forEach((entry, i) =>
    applyJson6902Entry(resources, k, entry, { file: k.file, field: `patchesJson6902[${i}]` }, loader),
  );
}
