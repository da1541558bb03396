// The `openapi:` kustomization field: which merge rules a build's strategic merge patches use.
// kustomize keeps this in process-wide globals, and its output depends on their order, so the
// rules below mirror that order (kubectl kustomize v5.5, kyaml's openapi.SetSchema):
// - the built kustomization's `openapi:` is applied first; otherwise the first kustomization
//   entered (resources and components, depth first, in order) that has one sets it, and once set
//   no later one changes it (their files must still exist);
// - `path: <file>` (JSON or YAML, relative to that kustomization) REPLACES the built-in
//   Kubernetes rules: a Deployment's containers are then replaced as a whole unless the file
//   describes Deployments too. But kyaml loads its built-in schema lazily, the first time it needs
//   it — when a strategic merge patch is applied, or when an object of a kind outside its
//   precomputed scope table is read — and a schema set after that is ADDED to the built-in one;
//   `version: v1.21.2` (the only one kustomize v5.5 bundles) keeps the built-in rules;
// - the file is parsed when a patch first needs it: a file no patch uses is never read as OpenAPI.
import { ErrorCode } from "@flotilla/model";
import { OverlayError, renderFailed } from "./errors.js";
import type { Kustomization } from "./kustomization.js";
import { BUILTIN_SCHEMAS, type MergeSchemas, type TypeSchema } from "./patch/merge-schema.js";
import { OpenApiSchemas } from "./patch/openapi-schema.js";
import { resolveFileInKustomization } from "./repo-paths.js";
import { parseYamlDocument } from "./yaml-io.js";

/** The OpenAPI versions kustomize v5.5 bundles (`openapi: {version: …}`). */
export const BUILTIN_OPENAPI_VERSIONS: readonly string[] = ["v1.21.2"];

interface CustomSchema {
  text: string;
  /** The schema file and the kustomization field naming it, for errors. */
  file: string;
  listedIn: { file: string; field: string };
  /** Set after kustomize had already loaded its built-in schema: the two are combined. */
  additive: boolean;
  parsed?: OpenApiSchemas;
}

/** What entering a kustomization needs to read its schema file (the build's Loader, which holds this state). */
export interface SchemaFileReader {
  readBytes(path: string, from: { file: string; field: string }): Uint8Array | undefined;
  textOf(bytes: Uint8Array, path: string, from: { file: string; field: string }): string;
}

export class OpenApiState implements MergeSchemas {
  /** kustomize's "schema is set": a version or a custom schema was chosen. */
  private locked = false;
  /** kyaml has loaded its built-in schema (it does so on first need, see above). */
  private builtinLoaded = false;
  private custom: CustomSchema | undefined;

  /** A kustomization is entered (the built one first, with `top`). */
  enter(k: Kustomization, loader: SchemaFileReader, top: boolean): void {
    const { path, version } = k.openapi;
    const listedIn = { file: k.file, field: "openapi.path" };
    let text: string | undefined;
    if (path !== undefined) {
      const file = resolveFileInKustomization(k.dir, path, k.file, "openapi.path");
      const bytes = loader.readBytes(file, listedIn);
      if (!bytes) throw renderFailed(`openapi schema file "${path}" does not exist (looked for ${file})`, listedIn);
      text = loader.textOf(bytes, file, listedIn);
      if (this.locked && !top) return;
      if (version !== undefined) {
        throw renderFailed("openapi sets both a builtin version and a custom schema path; use one", { file: k.file, field: "openapi" });
      }
      this.custom = { text, file, listedIn, additive: !top && this.builtinLoaded };
      this.locked = true;
      return;
    }
    if (this.locked && !top) return;
    if (version === undefined || version === "") return;
    if (!BUILTIN_OPENAPI_VERSIONS.includes(version)) {
      throw new OverlayError(
        ErrorCode.KustomizationUnsupported,
        `openapi version "${version}" is not built in (kustomize v5.5 bundles ${BUILTIN_OPENAPI_VERSIONS.join(", ")}); name a schema file with openapi.path instead`,
        { file: k.file, field: "openapi.version" },
      );
    }
    this.custom = undefined;
    this.locked = true;
  }

  /** An object was read from a resource file: kinds kyaml must look up load its built-in schema. */
  noteLoaded(apiVersion: unknown, kind: unknown): void {
    if (this.builtinLoaded || this.locked) return;
    if (!PRECOMPUTED_SCOPE.has(`${String(apiVersion)} ${String(kind)}`)) this.builtinLoaded = true;
  }

  rootFor(apiVersion: unknown, kind: unknown): TypeSchema | undefined {
    const custom = this.custom;
    if (!custom) {
      this.builtinLoaded = true;
      return BUILTIN_SCHEMAS.rootFor(apiVersion, kind);
    }
    const schemas = (custom.parsed ??= parseSchema(custom));
    if (schemas.has(apiVersion, kind) || !custom.additive) return schemas.rootFor(apiVersion, kind);
    return BUILTIN_SCHEMAS.rootFor(apiVersion, kind);
  }
}

function parseSchema(custom: CustomSchema): OpenApiSchemas {
  let doc: unknown;
  try {
    doc = parseYamlDocument(custom.text, custom.file);
  } catch (err) {
    const reason = err instanceof OverlayError ? err.reason : String(err);
    throw renderFailed(`invalid openapi schema file ${custom.file}: ${reason}`, custom.listedIn, err);
  }
  if (doc === null || typeof doc !== "object" || Array.isArray(doc)) {
    throw renderFailed(`invalid openapi schema file ${custom.file}: expected a Swagger 2 document (a mapping with definitions)`, custom.listedIn);
  }
  return new OpenApiSchemas(doc);
}

/**
 * kyaml's precomputedIsNamespaceScoped table (kustomize v5.5): objects of these kinds are read
 * without loading the built-in schema; any other kind loads it.
 */
const PRECOMPUTED_SCOPE = new Set(
  [
    "admissionregistration.k8s.io/v1 MutatingWebhookConfiguration",
    "admissionregistration.k8s.io/v1 ValidatingWebhookConfiguration",
    "admissionregistration.k8s.io/v1beta1 MutatingWebhookConfiguration",
    "admissionregistration.k8s.io/v1beta1 ValidatingWebhookConfiguration",
    "apiextensions.k8s.io/v1 CustomResourceDefinition",
    "apiextensions.k8s.io/v1beta1 CustomResourceDefinition",
    "apiregistration.k8s.io/v1 APIService",
    "apiregistration.k8s.io/v1beta1 APIService",
    "apps/v1 ControllerRevision",
    "apps/v1 DaemonSet",
    "apps/v1 Deployment",
    "apps/v1 ReplicaSet",
    "apps/v1 StatefulSet",
    "autoscaling/v1 HorizontalPodAutoscaler",
    "autoscaling/v1 Scale",
    "autoscaling/v2beta1 HorizontalPodAutoscaler",
    "autoscaling/v2beta2 HorizontalPodAutoscaler",
    "batch/v1 CronJob",
    "batch/v1 Job",
    "batch/v1beta1 CronJob",
    "certificates.k8s.io/v1 CertificateSigningRequest",
    "certificates.k8s.io/v1beta1 CertificateSigningRequest",
    "coordination.k8s.io/v1 Lease",
    "coordination.k8s.io/v1beta1 Lease",
    "discovery.k8s.io/v1 EndpointSlice",
    "discovery.k8s.io/v1beta1 EndpointSlice",
    "events.k8s.io/v1 Event",
    "events.k8s.io/v1beta1 Event",
    "extensions/v1beta1 Ingress",
    "flowcontrol.apiserver.k8s.io/v1beta1 FlowSchema",
    "flowcontrol.apiserver.k8s.io/v1beta1 PriorityLevelConfiguration",
    "networking.k8s.io/v1 Ingress",
    "networking.k8s.io/v1 IngressClass",
    "networking.k8s.io/v1 NetworkPolicy",
    "networking.k8s.io/v1beta1 Ingress",
    "networking.k8s.io/v1beta1 IngressClass",
    "node.k8s.io/v1 RuntimeClass",
    "node.k8s.io/v1beta1 RuntimeClass",
    "policy/v1 PodDisruptionBudget",
    "policy/v1beta1 PodDisruptionBudget",
    "policy/v1beta1 PodSecurityPolicy",
    "rbac.authorization.k8s.io/v1 ClusterRole",
    "rbac.authorization.k8s.io/v1 ClusterRoleBinding",
    "rbac.authorization.k8s.io/v1 Role",
    "rbac.authorization.k8s.io/v1 RoleBinding",
    "rbac.authorization.k8s.io/v1beta1 ClusterRole",
    "rbac.authorization.k8s.io/v1beta1 ClusterRoleBinding",
    "rbac.authorization.k8s.io/v1beta1 Role",
    "rbac.authorization.k8s.io/v1beta1 RoleBinding",
    "scheduling.k8s.io/v1 PriorityClass",
    "scheduling.k8s.io/v1beta1 PriorityClass",
    "storage.k8s.io/v1 CSIDriver",
    "storage.k8s.io/v1 CSINode",
    "storage.k8s.io/v1 StorageClass",
    "storage.k8s.io/v1 VolumeAttachment",
    "storage.k8s.io/v1beta1 CSIDriver",
    "storage.k8s.io/v1beta1 CSINode",
    "storage.k8s.io/v1beta1 CSIStorageCapacity",
    "storage.k8s.io/v1beta1 StorageClass",
    "storage.k8s.io/v1beta1 VolumeAttachment",
    "v1 ComponentStatus",
    "v1 ConfigMap",
    "v1 Endpoints",
    "v1 Event",
    "v1 LimitRange",
    "v1 Namespace",
    "v1 Node",
    "v1 NodeProxyOptions",
    "v1 PersistentVolume",
    "v1 PersistentVolumeClaim",
    "v1 Pod",
    "v1 PodAttachOptions",
    "v1 PodExecOptions",
    "v1 PodPortForwardOptions",
    "v1 PodProxyOptions",
    "v1 PodTemplate",
    "v1 ReplicationController",
    "v1 ResourceQuota",
    "v1 Secret",
    "v1 Service",
    "v1 ServiceAccount",
    "v1 ServiceProxyOptions",
  ],
);
