// `buildMetadata:` of the kustomization being built (kustomize reads no base's):
// - originAnnotations: every object gets `config.kubernetes.io/origin`, the file it came from
//   relative to the built directory (`path: ../base/cm.yaml`), or for generated objects the
//   kustomization and generator that made them;
// - managedByLabel: every object gets `app.kubernetes.io/managed-by: kustomize-v5.5.0`, what
//   `kustomize build` v5.5.0 writes. kubectl's embedded kustomize writes `kustomize-(devel)`
//   instead, which the API server refuses as a label value, so we deliberately differ there;
// - transformerAnnotations (alpha) is refused; unknown values are ignored, as kustomize does.
import { unsupported } from "./errors.js";
import type { Kustomization } from "./kustomization.js";
import { relativePath } from "./repo-paths.js";
import type { Resource } from "./resource.js";

export const ORIGIN_ANNOTATION = "config.kubernetes.io/origin";
export const MANAGED_BY_LABEL = "app.kubernetes.io/managed-by";
/** The kustomize release whose semantics this engine follows, as kustomize stamps it. */
export const MANAGED_BY_VALUE = "kustomize-v5.5.0";

export function applyBuildMetadata(resources: readonly Resource[], k: Kustomization): void {
  const options = new Set(k.buildMetadata);
  if (options.has("transformerAnnotations")) {
    throw unsupported(
      k.file,
      "buildMetadata",
      "buildMetadata transformerAnnotations (alpha) is not supported by flotilla's overlay engine; originAnnotations and managedByLabel are",
    );
  }
  const origin = options.has("originAnnotations");
  const managedBy = options.has("managedByLabel");
  if (!origin && !managedBy) return;
  for (const r of resources) {
    const meta = r.obj.metadata;
    if (origin) meta.annotations = { ...(meta.annotations ?? {}), [ORIGIN_ANNOTATION]: originOf(r, k.dir) };
    if (managedBy) meta.labels = { ...(meta.labels ?? {}), [MANAGED_BY_LABEL]: MANAGED_BY_VALUE };
  }
}

/** The origin annotation's value: YAML, as kustomize writes its origin record. */
function originOf(r: Resource, dir: string): string {
  const path = yamlScalar(relativePath(dir, r.source));
  if (!r.generatedBy) return `path: ${path}\n`;
  const name = r.generatorName ? `  name: ${yamlScalar(r.generatorName)}\n` : "";
  return `configuredIn: ${path}\nconfiguredBy:\n  apiVersion: builtin\n  kind: ${r.generatedBy}\n${name}`;
}

/** A path as a plain YAML scalar, double-quoted when it could not be read back plain. */
function yamlScalar(s: string): string {
  return /^[A-Za-z0-9_./-]+$/.test(s) && !/^[-.]+$/.test(s) ? s : JSON.stringify(s);
}
