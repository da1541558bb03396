// Running builtin plugin configs: a generator config makes its ConfigMap or Secret, a transformer
// config changes the objects built so far, each with the builtin transformer kustomize would run.
// Files a config names (patches, env files, replacement files) resolve against the kustomization
// that lists the config, as kustomize hands plugins that kustomization's loader; a generator
// config gets only its own options, never the kustomization's generatorOptions.
import type { Kustomization } from "../kustomization.js";
import type { Loader } from "../loader.js";
import { generateOne } from "../generators.js";
import { applyJson6902Entry, applyPatchEntry, applyStrategicMergeEntry, looksInline } from "../patches.js";
import { parseReplacementFile, type Replacement } from "../replacement-config.js";
import { resolveFileInKustomization } from "../repo-paths.js";
import type { Resource } from "../resource.js";
import { applyImages } from "../transformers/images.js";
import { setPairs } from "../transformers/labels.js";
import { applyNamePrefix, applyNameSuffix } from "../transformers/name-affix.js";
import { applyNamespace } from "../transformers/namespace.js";
import { applyReplacements } from "../transformers/replacements.js";
import { applyReplicas } from "../transformers/replicas.js";
import type { GeneratorConfig, TransformerPluginConfig } from "./plugin-config.js";

export function runGeneratorPlugin(c: GeneratorConfig, k: Kustomization, field: string, loader: Loader): Resource {
  const res = generateOne({ dir: k.dir, file: c.source }, c.args, c.kind === "SecretGenerator", field, loader, undefined);
  if (c.configName) res.generatorName = c.configName;
  return res;
}

export function runTransformerPlugin(rs: Resource[], c: TransformerPluginConfig, k: Kustomization, field: string, loader: Loader): void {
  const site = { dir: k.dir, file: c.source };
  const where = { file: c.source, field };
  switch (c.kind) {
    case "PatchTransformer":
      applyPatchEntry(rs, site, c.entry, where, loader);
      return;
    case "PatchStrategicMergeTransformer":
      for (const p of c.paths) {
        applyStrategicMergeEntry(rs, site, looksInline(p) ? { patch: p } : { path: p }, where, loader, `${c.kind} paths`);
      }
      if (c.patches) applyStrategicMergeEntry(rs, site, { patch: c.patches }, where, loader, `${c.kind} patches`);
      return;
    case "PatchJson6902Transformer":
      applyJson6902Entry(rs, site, c.entry, where, loader, `${c.kind} patches`);
      return;
    case "LabelTransformer":
    case "AnnotationsTransformer":
      setPairs(rs, c.pairs, c.fieldSpecs, c.source, field);
      return;
    case "PrefixSuffixTransformer":
      applyNamePrefix(rs, c.prefix, c.fieldSpecs);
      applyNameSuffix(rs, c.suffix, c.fieldSpecs);
      return;
    case "NamespaceTransformer":
      if (c.namespace === "") return;
      applyNamespace(rs, c.namespace, c.fieldSpecs, c.source, {
        unsetOnly: c.unsetOnly,
        roleBindingSubjects: c.roleBindingSubjects,
        field,
      });
      return;
    case "ImageTagTransformer":
      applyImages(rs, [c.image], c.fieldSpecs);
      return;
    case "ReplicaCountTransformer":
      applyReplicas(rs, [c.replica], c.fieldSpecs, c.source);
      return;
    case "ReplacementTransformer": {
      const list: Replacement[] = c.replacements.flatMap((entry, i) => {
        if ("inline" in entry) return [entry.inline];
        const at = `${field}.replacements[${i}]`;
        const path = resolveFileInKustomization(k.dir, entry.path, c.source, at);
        return parseReplacementFile(loader.readDocument(path, { file: c.source, field: at }), path);
      });
      applyReplacements(rs, list, c.source);
      return;
    }
  }
}
