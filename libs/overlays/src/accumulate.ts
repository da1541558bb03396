// Building one kustomization, in kustomize's order: resources (files and nested kustomizations),
// generators (configMapGenerator, secretGenerator, then `generators:` plugins), components, then
// the built-in transformers (patches, namespace, prefix/suffix, labels, annotations, JSON 6902
// patches, replicas, images, replacements) and last the `transformers:` plugins.
import { ErrorCode } from "@flotilla/model";
import { OverlayError, renderFailed } from "./errors.js";
import { generate } from "./generators.js";
import type { Kustomization } from "./kustomization.js";
import type { Loader } from "./loader.js";
import { applyPatches, applyPatchesJson6902, applyPatchesStrategicMerge } from "./patches.js";
import { parseReplacementFile, type Replacement } from "./replacement-config.js";
import {
  defaultTransformerConfig,
  mergeTransformerConfig,
  parseTransformerConfig,
  type TransformerConfig,
} from "./transformer-config.js";
import { looksRemote, resolveFileInKustomization, resolveInRepo } from "./repo-paths.js";
import { allIds, curId, describeId, idEquals, idKey, newResource, type Resource } from "./resource.js";
import { applyImages } from "./transformers/images.js";
import { applyAnnotations, applyLabels } from "./transformers/labels.js";
import { applyNamePrefix, applyNameSuffix } from "./transformers/name-affix.js";
import { applyNamespace } from "./transformers/namespace.js";
import { applyReplacements } from "./transformers/replacements.js";
import { applyReplicas } from "./transformers/replicas.js";
import { addVars, bindVars, type VarDecl } from "./vars.js";
import { isPlainObject, toKubeObjects } from "./yaml-io.js";
import { documentsOfText } from "./parse-cache.js";
import {
  parseGeneratorConfig,
  parseTransformerConfig as parsePluginTransformer,
  type PluginObject,
} from "./plugins/plugin-config.js";
import { runGeneratorPlugin, runTransformerPlugin } from "./plugins/run-plugins.js";

/** The transformer configuration being collected for one build (shared with components). */
export interface ConfigHolder {
  value: TransformerConfig;
  /** The vars declared by the kustomization and everything it includes, bound to their objects. */
  vars: VarDecl[];
}

export class Accumulator {
  /** Kustomization directories being built, outermost first (cycle detection). */
  private readonly stack: string[] = [];

  constructor(readonly loader: Loader) {}

  /**
   * Builds `k` into `into` (a fresh list for a kustomization, the parent's list for a component).
   * `config` collects the transformer configuration of `k` and everything it includes; a
   * component shares its parent's.
   */
  build(k: Kustomization, into: Resource[], config: ConfigHolder, from?: { file: string; field: string }): Resource[] {
    this.enter(k, from);
    try {
      for (const [i, entry] of k.resources.entries()) this.addResource(k, entry, `resources[${i}]`, into, config);
      this.addConfigurations(k, config);
      // As in kustomize ≥ 5.1: this kustomization's generators run before its components, so a
      // component's transformers also see (and can merge into) what the generators made.
      for (const res of generate(k, this.loader)) this.appendGenerated(k, res, into);
      this.runGenerators(k, into);
      for (const [i, entry] of k.components.entries()) this.addComponent(k, entry, `components[${i}]`, into, config);
      this.transform(k, into, config.value);
      bindVars(k.vars, into, config.vars, "vars");
      return into;
    } finally {
      this.stack.pop();
    }
  }

  /** `from`: the file and field that listed `k`, which is what closes a cycle and needs the fix. */
  private enter(k: Kustomization, from?: { file: string; field: string }): void {
    const dir = k.dir || ".";
    if (this.stack.includes(dir)) {
      throw renderFailed(`cycle in kustomizations: ${[...this.stack, dir].join(" → ")}`, from ?? { file: k.file });
    }
    if (this.stack.length >= this.loader.limits.maxDepth) {
      throw renderFailed(`kustomizations nest deeper than the limit of ${this.loader.limits.maxDepth}`, { file: k.file });
    }
    this.stack.push(dir);
  }

  private addConfigurations(k: Kustomization, config: ConfigHolder): void {
    k.configurations.forEach((entry, i) => {
      const field = `configurations[${i}]`;
      const path = resolveFileInKustomization(k.dir, entry, k.file, field);
      config.value = mergeTransformerConfig(config.value, parseTransformerConfig(this.loader.readDocument(path, { file: k.file, field }), path));
    });
  }

  private addResource(k: Kustomization, entry: string, field: string, into: Resource[], config: ConfigHolder): void {
    const where = { file: k.file, field };
    if (looksRemote(entry)) {
      throw new OverlayError(
        ErrorCode.KustomizationUnsupported,
        `remote resource "${entry}" is not supported: a render reads only this repository; vendor the base into the repo`,
        where,
      );
    }
    const path = resolveInRepo(k.dir, entry, k.file, field);
    if (this.loader.isDir(path)) {
      refuseEnclosingDir(k, entry, path, where);
      const sub = this.loader.loadKustomization(path, where);
      this.loader.openapi.enter(sub, this.loader, false);
      if (sub.kind === "Component") {
        throw renderFailed(`"${entry}" is a Component; list it under components, not resources`, where);
      }
      const defaults = defaultTransformerConfig();
      const subConfig: ConfigHolder = { value: defaults, vars: [] };
      this.appendAll(k, this.build(sub, [], subConfig, where), into, field);
      addVars(config.vars, subConfig.vars, where);
      // Every configuration starts from the defaults, so a base that added none adds nothing.
      if (subConfig.value !== defaults) config.value = mergeTransformerConfig(config.value, subConfig.value);
      return;
    }
    resolveFileInKustomization(k.dir, entry, k.file, field);
    const bytes = this.loader.readBytes(path, where);
    if (!bytes) throw renderFailed(`resource "${entry}" does not exist (looked for ${path})`, where);
    const text = this.loader.textOf(bytes, path, where);
    let objects;
    try {
      objects = toKubeObjects(this.loader.documentsOf(bytes, text, path), path);
    } catch (err) {
      // Name the kustomization that lists the file too: that is where users look first.
      if (err instanceof OverlayError) throw err.listedIn(k.file, field);
      throw err;
    }
    for (const o of objects) this.loader.openapi.noteLoaded(o.apiVersion, o.kind);
    this.appendAll(
      k,
      objects.map((o) => newResource(o, path)),
      into,
      field,
    );
  }

  private addComponent(k: Kustomization, entry: string, field: string, into: Resource[], config: ConfigHolder): void {
    const where = { file: k.file, field };
    if (looksRemote(entry)) {
      throw new OverlayError(ErrorCode.KustomizationUnsupported, `remote component "${entry}" is not supported`, where);
    }
    const path = resolveInRepo(k.dir, entry, k.file, field);
    if (!this.loader.isDir(path)) throw renderFailed(`component "${entry}" is not a directory`, where);
    refuseEnclosingDir(k, entry, path, where);
    const sub = this.loader.loadKustomization(path, where);
    this.loader.openapi.enter(sub, this.loader, false);
    if (sub.kind !== "Component") {
      throw renderFailed(`"${entry}" must have kind: Component to be listed under components`, where);
    }
    this.build(sub, into, config, where);
  }

  private appendAll(k: Kustomization, add: Resource[], into: Resource[], field: string): void {
    const present = new Set(into.map((o) => idKey(curId(o))));
    for (const r of add) {
      const id = curId(r);
      const key = idKey(id);
      if (present.has(key)) {
        throw renderFailed(`may not add resource with an already registered id: ${describeId(id)} (from ${r.source})`, {
          file: k.file,
          field,
        });
      }
      present.add(key);
      into.push(r);
    }
    this.checkCount(k, into);
  }

  private checkCount(k: Kustomization, into: Resource[]): void {
    if (into.length > this.loader.limits.maxObjects) {
      throw renderFailed(`more than ${this.loader.limits.maxObjects} objects`, { file: k.file });
    }
  }

  /** kustomize's appendReplaceOrMerge for generated ConfigMaps/Secrets. */
  private appendGenerated(k: Kustomization, res: Resource, into: Resource[]): void {
    const id = curId(res);
    const matches = into.filter((o) => allIds(o).some((oid) => idEquals(oid, id)));
    const where = { file: k.file, field: res.obj.kind === "Secret" ? "secretGenerator" : "configMapGenerator" };
    if (matches.length === 0) {
      if (res.behavior === "merge" || res.behavior === "replace") {
        throw renderFailed(`${describeId(id)} does not exist; cannot ${res.behavior} it`, where);
      }
      into.push(res);
      this.checkCount(k, into);
      return;
    }
    if (matches.length > 1) throw renderFailed(`several objects could accept the ${res.behavior} of ${describeId(id)}`, where);
    const old = matches[0] as Resource;
    if (res.behavior !== "merge" && res.behavior !== "replace") {
      throw renderFailed(`${describeId(id)} already exists; set behavior: merge or replace`, where);
    }
    const obj = res.obj;
    const oldMeta = old.obj.metadata;
    obj.metadata.labels = { ...(oldMeta.labels ?? {}), ...(obj.metadata.labels ?? {}) };
    obj.metadata.annotations = { ...(oldMeta.annotations ?? {}), ...(obj.metadata.annotations ?? {}) };
    if (Object.keys(obj.metadata.labels).length === 0) delete obj.metadata.labels;
    if (Object.keys(obj.metadata.annotations).length === 0) delete obj.metadata.annotations;
    obj.metadata.name = oldMeta.name;
    if (oldMeta.namespace !== undefined) obj.metadata.namespace = oldMeta.namespace;
    else delete obj.metadata.namespace;
    if (res.behavior === "merge") {
      for (const field of ["data", "binaryData"] as const) {
        const merged = { ...((old.obj[field] as Record<string, unknown>) ?? {}), ...((obj[field] as Record<string, unknown>) ?? {}) };
        if (Object.keys(merged).length > 0) obj[field] = merged;
      }
    }
    // The merged object keeps the old one's history (names it had, prefixes); it gets a hash
    // suffix only if neither generator disabled it (what kustomize does).
    old.obj = obj;
    old.sharedValues = new Map();
    // Its origin (buildMetadata: originAnnotations) stays the first generator's on a merge and
    // becomes the replacing generator's on a replace, as in kustomize.
    if (res.behavior === "replace") {
      old.source = res.source;
      if (res.generatedBy) old.generatedBy = res.generatedBy;
      else delete old.generatedBy;
      if (res.generatorName) old.generatorName = res.generatorName;
      else delete old.generatorName;
    }
    old.needsHash = old.needsHash && res.needsHash;
  }

  private transform(k: Kustomization, rs: Resource[], config: TransformerConfig): void {
    applyPatchesStrategicMerge(rs, k, this.loader);
    applyPatches(rs, k, this.loader);
    if (k.namespace) applyNamespace(rs, k.namespace, config.namespace, k.file);
    if (k.namePrefix) applyNamePrefix(rs, k.namePrefix, config.namePrefix);
    if (k.nameSuffix) applyNameSuffix(rs, k.nameSuffix, config.nameSuffix);
    applyLabels(rs, k.labels, k.commonLabels, config, k.file);
    applyAnnotations(rs, k.commonAnnotations, config, k.file);
    applyPatchesJson6902(rs, k, this.loader);
    applyReplicas(rs, k.replicas, config.replicas, k.file);
    applyImages(rs, k.images, config.images);
    applyReplacements(rs, this.replacementsOf(k), k.file);
    // `transformers:` run after all of the above, in the order listed.
    for (const { config, field } of this.pluginObjects(k, "transformers")) {
      const c = listedIn(k, field, () => parsePluginTransformer(config));
      listedIn(k, field, () => runTransformerPlugin(rs, c, k, field, this.loader));
    }
  }

  /** `generators:` run after configMapGenerator/secretGenerator; their objects merge or replace the same way. */
  private runGenerators(k: Kustomization, into: Resource[]): void {
    for (const { config, field } of this.pluginObjects(k, "generators")) {
      const c = listedIn(k, field, () => parseGeneratorConfig(config));
      const res = listedIn(k, field, () => runGeneratorPlugin(c, k, field, this.loader));
      this.appendGenerated(k, res, into);
    }
  }

  /**
   * The plugin configs of a `generators:` / `transformers:` list, as kustomize reads them: an
   * entry that is YAML of objects is an inline config; else a file of configs, or a directory
   * whose kustomization builds to configs (with its own transformers applied to them).
   */
  private pluginObjects(k: Kustomization, role: "generators" | "transformers"): Array<{ config: PluginObject; field: string }> {
    const out: Array<{ config: PluginObject; field: string }> = [];
    k[role].forEach((entry, i) => {
      const field = `${role}[${i}]`;
      const where = { file: k.file, field };
      const inline = inlineObjects(entry, k.file);
      if (inline) {
        for (const raw of listedIn(k, field, () => toKubeObjects(inline, k.file))) out.push({ config: { raw, source: k.file }, field });
        return;
      }
      if (looksRemote(entry)) {
        throw new OverlayError(ErrorCode.KustomizationUnsupported, `remote plugin config "${entry}" is not supported; vendor it into the repo`, where);
      }
      const path = resolveInRepo(k.dir, entry, k.file, field);
      if (this.loader.isDir(path)) {
        refuseEnclosingDir(k, entry, path, where);
        const sub = this.loader.loadKustomization(path, where);
        if (sub.kind === "Component") throw renderFailed(`"${entry}" is a Component; a ${role} entry must be a kustomization`, where);
        for (const r of this.build(sub, [], { value: defaultTransformerConfig(), vars: [] }, where)) {
          out.push({ config: { raw: r.obj, source: r.source }, field });
        }
        return;
      }
      resolveFileInKustomization(k.dir, entry, k.file, field);
      const bytes = this.loader.readBytes(path, where);
      if (!bytes) throw renderFailed(`${role} entry "${entry}" does not exist (looked for ${path})`, where);
      const docs = this.loader.documentsOf(bytes, this.loader.textOf(bytes, path, where), path);
      for (const raw of listedIn(k, field, () => toKubeObjects(docs, path))) out.push({ config: { raw, source: path }, field });
    });
    return out;
  }

  private replacementsOf(k: Kustomization): Replacement[] {
    return k.replacements.flatMap((entry, i) => {
      if ("inline" in entry) return [entry.inline];
      const field = `replacements[${i}]`;
      const path = resolveFileInKustomization(k.dir, entry.path, k.file, field);
      return parseReplacementFile(this.loader.readDocument(path, { file: k.file, field }), path);
    });
  }
}

/** Runs `f`, naming the listing kustomization in errors about another file (a plugin config's). */
function listedIn<T>(k: Kustomization, field: string, f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof OverlayError && err.file !== k.file) throw err.listedIn(k.file, field);
    throw err;
  }
}

/** The objects of an inline plugin config, or undefined when the entry is a path. */
function inlineObjects(entry: string, file: string): unknown[] | undefined {
  if (!entry.includes("\n") && !/^\s*[{\w$.-]+\s*:/.test(entry)) return undefined;
  let docs: unknown[];
  try {
    docs = documentsOfText(entry, file);
  } catch {
    return undefined;
  }
  const objects = docs.filter((d) => d !== null && d !== undefined);
  return objects.length > 0 && objects.every(isPlainObject) ? objects : undefined;
}

/**
 * kustomize refuses to build on a directory that contains the referring kustomization's own
 * directory (or is that directory): `base/overlays/prod` listing `../..` would read itself back.
 */
function refuseEnclosingDir(k: Kustomization, entry: string, dir: string, where: { file: string; field: string }): void {
  if (dir !== "" && k.dir !== dir && !k.dir.startsWith(`${dir}/`)) return;
  const shown = dir === "" ? "the repository root" : `"${dir}"`;
  throw renderFailed(
    `cycle in kustomizations: "${entry}" is ${shown}, which contains this kustomization's own directory "${k.dir || "."}"; ` +
      "build on a directory outside it (move the overlay out of the base, or the base into a sibling directory)",
    where,
  );
}
