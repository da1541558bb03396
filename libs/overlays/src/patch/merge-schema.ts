// Which lists of the built-in Kubernetes kinds merge by key in a strategic merge patch, taken
// from the API's `patchStrategy`/`patchMergeKey` tags (and `x-kubernetes-list-map-keys` where the
// key has several fields, as kustomize reads them from its embedded OpenAPI document).
// Lists not described here are replaced whole, like every list of a custom resource: kustomize
// has no schema for those and falls back to JSON merge semantics.

/** How one field merges. */
export interface FieldSchema {
  /** The field is a list merged by these keys; `[]` means a list of scalars merged as a set. */
  mergeKeys?: readonly string[];
  /** Type of the field's value (for a merged list: of its elements). */
  type?: TypeSchema;
}

/** Stands for every field a type's `properties` do not name (an OpenAPI `additionalProperties` schema). */
export const ANY_FIELD: unique symbol = Symbol("any field");

/** The fields of one object type that need more than the default rules. */
export type TypeSchema = { readonly [field: string]: FieldSchema; readonly [ANY_FIELD]?: FieldSchema };

/** The field schema of `key` in `schema`: its own entry, else the one for any field. */
export function fieldOf(schema: TypeSchema | undefined, key: string): FieldSchema | undefined {
  if (schema === undefined) return undefined;
  return Object.hasOwn(schema, key) ? schema[key] : schema[ANY_FIELD];
}

/** Where a strategic merge finds the schema of an object's root. */
export interface MergeSchemas {
  rootFor(apiVersion: unknown, kind: unknown): TypeSchema | undefined;
}

const byName = ["name"] as const;

const objectMeta: TypeSchema = {
  finalizers: { mergeKeys: [] },
  ownerReferences: { mergeKeys: ["uid"] },
};

const container: TypeSchema = {
  ports: { mergeKeys: ["containerPort", "protocol"] },
  env: { mergeKeys: byName },
  volumeMounts: { mergeKeys: ["mountPath"] },
  volumeDevices: { mergeKeys: ["devicePath"] },
};

const podSpec: TypeSchema = {
  containers: { mergeKeys: byName, type: container },
  initContainers: { mergeKeys: byName, type: container },
  ephemeralContainers: { mergeKeys: byName, type: container },
  volumes: { mergeKeys: byName },
  imagePullSecrets: { mergeKeys: byName },
  hostAliases: { mergeKeys: ["ip"] },
  topologySpreadConstraints: { mergeKeys: ["topologyKey", "whenUnsatisfiable"] },
};

const podTemplateSpec: TypeSchema = {
  metadata: { type: objectMeta },
  spec: { type: podSpec },
};

const withTemplate: TypeSchema = { template: { type: podTemplateSpec } };

const statefulSetSpec: TypeSchema = {
  template: { type: podTemplateSpec },
};

const jobTemplate: TypeSchema = {
  metadata: { type: objectMeta },
  spec: { type: withTemplate },
};

const serviceSpec: TypeSchema = {
  ports: { mergeKeys: ["port", "protocol"] },
};

const webhooks: TypeSchema = { webhooks: { mergeKeys: byName } };

function kind(spec: TypeSchema = {}): TypeSchema {
  return { metadata: { type: objectMeta }, ...spec };
}

/** Root schemas by `group/Kind` (core group is empty). */
const kinds: ReadonlyMap<string, TypeSchema> = new Map<string, TypeSchema>([
  ["/Pod", kind({ spec: { type: podSpec } })],
  ["/PodTemplate", kind({ template: { type: podTemplateSpec } })],
  ["/ReplicationController", kind({ spec: { type: withTemplate } })],
  ["/Service", kind({ spec: { type: serviceSpec } })],
  ["/ServiceAccount", kind({ secrets: { mergeKeys: byName } })],
  ["apps/Deployment", kind({ spec: { type: withTemplate } })],
  ["apps/ReplicaSet", kind({ spec: { type: withTemplate } })],
  ["apps/DaemonSet", kind({ spec: { type: withTemplate } })],
  ["apps/StatefulSet", kind({ spec: { type: statefulSetSpec } })],
  ["extensions/Deployment", kind({ spec: { type: withTemplate } })],
  ["extensions/ReplicaSet", kind({ spec: { type: withTemplate } })],
  ["extensions/DaemonSet", kind({ spec: { type: withTemplate } })],
  ["batch/Job", kind({ spec: { type: withTemplate } })],
  ["batch/CronJob", kind({ spec: { type: { jobTemplate: { type: jobTemplate } } } })],
  ["admissionregistration.k8s.io/MutatingWebhookConfiguration", kind(webhooks)],
  ["admissionregistration.k8s.io/ValidatingWebhookConfiguration", kind(webhooks)],
]);

/** Built-in kinds whose lists are all atomic: they still get ObjectMeta's merge rules. */
const plainBuiltins = new Set([
  "/ConfigMap", "/Secret", "/Namespace", "/PersistentVolumeClaim", "/PersistentVolume",
  "/Endpoints", "/LimitRange", "/ResourceQuota", "/Node", "/Event",
  "rbac.authorization.k8s.io/Role", "rbac.authorization.k8s.io/ClusterRole",
  "rbac.authorization.k8s.io/RoleBinding", "rbac.authorization.k8s.io/ClusterRoleBinding",
  "networking.k8s.io/Ingress", "networking.k8s.io/IngressClass", "networking.k8s.io/NetworkPolicy",
  "policy/PodDisruptionBudget", "autoscaling/HorizontalPodAutoscaler", "storage.k8s.io/StorageClass",
  "scheduling.k8s.io/PriorityClass", "apiextensions.k8s.io/CustomResourceDefinition",
  "coordination.k8s.io/Lease", "discovery.k8s.io/EndpointSlice", "apiregistration.k8s.io/APIService",
]);

const plain = kind();

/** The schema for an object's root, or undefined for kinds we know nothing about. */
export function schemaFor(apiVersion: unknown, kindName: unknown): TypeSchema | undefined {
  if (typeof apiVersion !== "string" || typeof kindName !== "string") return undefined;
  const slash = apiVersion.indexOf("/");
  const group = slash < 0 ? "" : apiVersion.slice(0, slash);
  const key = `${group}/${kindName}`;
  return kinds.get(key) ?? (plainBuiltins.has(key) ? plain : undefined);
}

/** The built-in Kubernetes kinds' merge rules (what kustomize uses without an `openapi:` schema). */
export const BUILTIN_SCHEMAS: MergeSchemas = { rootFor: schemaFor };
