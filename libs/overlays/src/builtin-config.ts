// kustomize's built-in transformer configuration (which fields carry labels, annotations,
// namespaces and name references), transcribed as data from kustomize v5.
import type { FieldSpec } from "./field-spec.js";

const T = (path: string, kind?: string, group?: string, version?: string, create = true): FieldSpec => ({
  path,
  create,
  ...(kind ? { kind } : {}),
  ...(group ? { group } : {}),
  ...(version ? { version } : {}),
});
const F = (path: string, kind: string, group?: string): FieldSpec => T(path, kind, group, undefined, false);

/** Pod-template label fields (labels with includeTemplates). */
export const TEMPLATE_LABEL_SPECS: FieldSpec[] = [
  T("spec/template/metadata/labels", "ReplicationController", undefined, "v1"),
  T("spec/template/metadata/labels", "Deployment"),
  T("spec/template/metadata/labels", "ReplicaSet"),
  T("spec/template/metadata/labels", "DaemonSet"),
  T("spec/template/metadata/labels", "StatefulSet", "apps"),
  T("spec/volumeClaimTemplates[]/metadata/labels", "StatefulSet", "apps"),
  T("spec/template/metadata/labels", "Job", "batch"),
  T("spec/jobTemplate/metadata/labels", "CronJob", "batch"),
  T("spec/jobTemplate/spec/template/metadata/labels", "CronJob", "batch"),
];

export const METADATA_LABEL_SPECS: FieldSpec[] = [T("metadata/labels"), ...TEMPLATE_LABEL_SPECS];

const affinityPaths = [
  "spec/template/spec/affinity/podAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels",
  "spec/template/spec/affinity/podAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels",
  "spec/template/spec/affinity/podAntiAffinity/preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm/labelSelector/matchLabels",
  "spec/template/spec/affinity/podAntiAffinity/requiredDuringSchedulingIgnoredDuringExecution/labelSelector/matchLabels",
  "spec/template/spec/topologySpreadConstraints/labelSelector/matchLabels",
];

/** commonLabels and labels with includeSelectors: metadata, templates and selectors. */
export const COMMON_LABEL_SPECS: FieldSpec[] = [
  T("spec/selector", "Service", undefined, "v1"),
  T("spec/selector", "ReplicationController", undefined, "v1"),
  T("spec/selector/matchLabels", "Deployment"),
  ...affinityPaths.map((p) => F(p, "Deployment", "apps")),
  T("spec/selector/matchLabels", "ReplicaSet"),
  T("spec/selector/matchLabels", "DaemonSet"),
  T("spec/selector/matchLabels", "StatefulSet", "apps"),
  T("spec/volumeClaimTemplates[]/metadata/labels", "StatefulSet", "apps"),
  ...affinityPaths.map((p) => F(p, "StatefulSet", "apps")),
  F("spec/selector/matchLabels", "Job", "batch"),
  F("spec/jobTemplate/spec/selector/matchLabels", "CronJob", "batch"),
  F("spec/selector/matchLabels", "PodDisruptionBudget", "policy"),
  F("spec/podSelector/matchLabels", "NetworkPolicy", "networking.k8s.io"),
  F("spec/ingress/from/podSelector/matchLabels", "NetworkPolicy", "networking.k8s.io"),
  F("spec/egress/to/podSelector/matchLabels", "NetworkPolicy", "networking.k8s.io"),
  ...METADATA_LABEL_SPECS,
];

export const COMMON_ANNOTATION_SPECS: FieldSpec[] = [
  T("metadata/annotations"),
  T("spec/template/metadata/annotations", "ReplicationController", undefined, "v1"),
  T("spec/template/metadata/annotations", "Deployment"),
  T("spec/template/metadata/annotations", "ReplicaSet"),
  T("spec/template/metadata/annotations", "DaemonSet"),
  T("spec/template/metadata/annotations", "StatefulSet"),
  T("spec/template/metadata/annotations", "Job", "batch"),
  T("spec/jobTemplate/metadata/annotations", "CronJob", "batch"),
  T("spec/jobTemplate/spec/template/metadata/annotations", "CronJob", "batch"),
];

/** Namespace fields besides metadata.namespace (handled separately) and RoleBinding subjects. */
export const NAMESPACE_SPECS: FieldSpec[] = [
  T("metadata/name", "Namespace"),
  T("spec/service/namespace", "APIService", "apiregistration.k8s.io"),
  F("spec/conversion/webhook/clientConfig/service/namespace", "CustomResourceDefinition", "apiextensions.k8s.io"),
];

export const REPLICA_SPECS: FieldSpec[] = [
  T("spec/replicas", "Deployment"),
  T("spec/replicas", "ReplicationController"),
  T("spec/replicas", "ReplicaSet"),
  T("spec/replicas", "StatefulSet"),
];

export interface NameReference {
  /** The kind being referred to. */
  target: { kind: string; group?: string; version?: string };
  /** Fields in referrers that hold its name. */
  referrers: FieldSpec[];
}

const podSpecPaths = (base: string) => ({
  configMap: [
    `${base}/volumes/configMap/name`,
    `${base}/containers/env/valueFrom/configMapKeyRef/name`,
    `${base}/initContainers/env/valueFrom/configMapKeyRef/name`,
    `${base}/containers/envFrom/configMapRef/name`,
    `${base}/initContainers/envFrom/configMapRef/name`,
    `${base}/volumes/projected/sources/configMap/name`,
  ],
  secret: [
    `${base}/volumes/secret/secretName`,
    `${base}/containers/env/valueFrom/secretKeyRef/name`,
    `${base}/initContainers/env/valueFrom/secretKeyRef/name`,
    `${base}/containers/envFrom/secretRef/name`,
    `${base}/initContainers/envFrom/secretRef/name`,
    `${base}/imagePullSecrets/name`,
    `${base}/volumes/projected/sources/secret/name`,
  ],
});

const workloads: Array<[kind: string, base: string, version?: string]> = [
  ["Pod", "spec", "v1"],
  ["PodTemplate", "template/spec"],
  ["Deployment", "spec/template/spec"],
  ["ReplicaSet", "spec/template/spec"],
  ["DaemonSet", "spec/template/spec"],
  ["StatefulSet", "spec/template/spec"],
  ["Job", "spec/template/spec"],
  ["CronJob", "spec/jobTemplate/spec/template/spec"],
];

const ref = (path: string, kind: string, group?: string, version?: string): FieldSpec => ({
  path,
  kind,
  ...(group ? { group } : {}),
  ...(version ? { version } : {}),
});

const withWorkloads = (pick: "configMap" | "secret"): FieldSpec[] =>
  workloads.flatMap(([kind, base, version]) => podSpecPaths(base)[pick].map((p) => ref(p, kind, undefined, version)));

const scaleTarget = (kind: string): NameReference => ({
  target: { kind },
  referrers: [ref("spec/scaleTargetRef/name", "HorizontalPodAutoscaler")],
});

const podField = (field: string): FieldSpec[] => [
  ref(`spec/${field}`, "Pod"),
  ref(`spec/template/spec/${field}`, "StatefulSet"),
  ref(`spec/template/spec/${field}`, "Deployment"),
  ref(`spec/template/spec/${field}`, "ReplicationController"),
  ref(`spec/jobTemplate/spec/template/spec/${field}`, "CronJob"),
  ref(`spec/template/spec/${field}`, "Job"),
  ref(`spec/template/spec/${field}`, "DaemonSet"),
];

export const NAME_REFERENCES: NameReference[] = [
  scaleTarget("Deployment"),
  scaleTarget("ReplicationController"),
  scaleTarget("ReplicaSet"),
  scaleTarget("StatefulSet"),
  {
    target: { kind: "ConfigMap", version: "v1" },
    referrers: [
      ...withWorkloads("configMap"),
      ref("spec/configSource/configMap", "Node"),
      ref("rules/resourceNames", "Role"),
      ref("rules/resourceNames", "ClusterRole"),
      ref("metadata/annotations/nginx.ingress.kubernetes.io\\/fastcgi-params-configmap", "Ingress"),
    ],
  },
  {
    target: { kind: "Secret", version: "v1" },
    referrers: [
      ...withWorkloads("secret"),
      ref("spec/tls/secretName", "Ingress"),
      ref("metadata/annotations/ingress.kubernetes.io\\/auth-secret", "Ingress"),
      ref("metadata/annotations/nginx.ingress.kubernetes.io\\/auth-secret", "Ingress"),
      ref("metadata/annotations/nginx.ingress.kubernetes.io\\/auth-tls-secret", "Ingress"),
      ref("imagePullSecrets/name", "ServiceAccount"),
      ref("parameters/secretName", "StorageClass"),
      ref("parameters/adminSecretName", "StorageClass"),
      ref("parameters/userSecretName", "StorageClass"),
      ref("parameters/secretRef", "StorageClass"),
      ref("rules/resourceNames", "Role"),
      ref("rules/resourceNames", "ClusterRole"),
      ref("spec/template/spec/containers/env/valueFrom/secretKeyRef/name", "Service", "serving.knative.dev", "v1"),
      ref("spec/azureFile/secretName", "PersistentVolume"),
    ],
  },
  {
    target: { kind: "Service", version: "v1" },
    referrers: [
      ref("spec/serviceName", "StatefulSet", "apps"),
      ref("spec/rules/http/paths/backend/serviceName", "Ingress"),
      ref("spec/backend/serviceName", "Ingress"),
      ref("spec/rules/http/paths/backend/service/name", "Ingress"),
      ref("spec/defaultBackend/service/name", "Ingress"),
      ref("spec/service/name", "APIService", "apiregistration.k8s.io"),
      ref("webhooks/clientConfig/service", "ValidatingWebhookConfiguration", "admissionregistration.k8s.io"),
      ref("webhooks/clientConfig/service", "MutatingWebhookConfiguration", "admissionregistration.k8s.io"),
      ref("spec/rules/backendRefs/name", "HTTPRoute"),
    ],
  },
  {
    target: { kind: "Role", group: "rbac.authorization.k8s.io" },
    referrers: [ref("roleRef/name", "RoleBinding", "rbac.authorization.k8s.io")],
  },
  {
    target: { kind: "ClusterRole", group: "rbac.authorization.k8s.io" },
    referrers: [
      ref("roleRef/name", "RoleBinding", "rbac.authorization.k8s.io"),
      ref("roleRef/name", "ClusterRoleBinding", "rbac.authorization.k8s.io"),
    ],
  },
  {
    target: { kind: "ServiceAccount", version: "v1" },
    referrers: [
      ref("subjects", "RoleBinding", "rbac.authorization.k8s.io"),
      ref("subjects", "ClusterRoleBinding", "rbac.authorization.k8s.io"),
      ...podField("serviceAccountName"),
    ],
  },
  {
    target: { kind: "PersistentVolumeClaim", version: "v1" },
    referrers: podField("volumes/persistentVolumeClaim/claimName"),
  },
  {
    target: { kind: "PersistentVolume", version: "v1" },
    referrers: [ref("spec/volumeName", "PersistentVolumeClaim"), ref("rules/resourceNames", "ClusterRole")],
  },
  {
    target: { kind: "StorageClass", version: "v1", group: "storage.k8s.io" },
    referrers: [
      ref("spec/storageClassName", "PersistentVolume"),
      ref("spec/storageClassName", "PersistentVolumeClaim"),
      ref("spec/volumeClaimTemplates/spec/storageClassName", "StatefulSet"),
    ],
  },
  {
    target: { kind: "PriorityClass", version: "v1", group: "scheduling.k8s.io" },
    referrers: podField("priorityClassName"),
  },
  {
    // Added in kustomize v5.5 (kubernetes-sigs/kustomize#5674): without it a prefixed binding
    // names a policy that no longer exists and silently enforces nothing.
    target: { kind: "ValidatingAdmissionPolicy", group: "admissionregistration.k8s.io" },
    referrers: [ref("spec/policyName", "ValidatingAdmissionPolicyBinding", "admissionregistration.k8s.io")],
  },
  {
    // kustomize writes this group as "networking.k8s.io/v1", which never matches a group; keep
    // the same (non-)behaviour.
    target: { kind: "IngressClass", version: "v1", group: "networking.k8s.io/v1" },
    referrers: [ref("spec/ingressClassName", "Ingress")],
  },
];

/** Kinds whose names are never prefixed/suffixed. */
export const PREFIX_SUFFIX_SKIP: Array<{ kind: string; group?: string }> = [
  { kind: "CustomResourceDefinition" },
  { kind: "APIService", group: "apiregistration.k8s.io" },
  { kind: "Namespace" },
];

const podVarFields = ["containers/args", "containers/command", "containers/env/value", "containers/volumeMounts/mountPath"];
const podVarPaths = (base: string) => [
  ...podVarFields.map((f) => `${base}/${f}`),
  ...podVarFields.map((f) => `${base}/${f.replace("containers", "initContainers")}`),
];
const varRef = (kind: string, paths: string[]): FieldSpec[] => paths.map((path) => ({ path, kind }));

/**
 * Where `vars:` references `$(NAME)` are expanded (kustomize's varReference defaults). The CronJob
 * nfs path lacks its `spec/` in kustomize too; kept as it is.
 */
export const VAR_REFERENCE_SPECS: FieldSpec[] = [
  ...varRef("CronJob", [...podVarPaths("spec/jobTemplate/spec/template/spec"), "spec/jobTemplate/spec/template/volumes/nfs/server"]),
  ...varRef("DaemonSet", [...podVarPaths("spec/template/spec"), "spec/template/spec/volumes/nfs/server"]),
  ...varRef("Deployment", [...podVarPaths("spec/template/spec"), "spec/template/spec/volumes/nfs/server", "spec/template/metadata/annotations"]),
  ...varRef("Ingress", ["spec/rules/host", "spec/tls/hosts", "spec/tls/secretName"]),
  ...varRef("Job", [...podVarPaths("spec/template/spec"), "spec/template/spec/volumes/nfs/server"]),
  ...varRef("Pod", [...podVarPaths("spec"), "spec/volumes/nfs/server"]),
  ...varRef("ReplicaSet", [...podVarPaths("spec/template/spec"), "spec/template/spec/volumes/nfs/server"]),
  ...varRef("Service", ["spec/ports/port", "spec/ports/targetPort"]),
  ...varRef("StatefulSet", [...podVarPaths("spec/template/spec"), "spec/volumeClaimTemplates/spec/nfs/server"]),
  ...varRef("PersistentVolume", ["spec/nfs/server"]),
  { path: "metadata/labels" },
  { path: "metadata/annotations" },
];
