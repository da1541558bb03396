// Parity of applyStrategicMergePatch with the real kustomize: each row is written to a temporary
// kustomization (one resource, one patch) and built with `kubectl kustomize`, live on every run.
// Known, deliberate differences are not in this table: kustomize copies $retainKeys,
// $setElementOrder and $deleteFromPrimitiveList into its output (we apply them).
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import { applyStrategicMergePatch, type KubeObject } from "../../src/patch/index.js";

const work = mkdtempSync(join(tmpdir(), "flotilla-smp-parity-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

function kustomize(target: KubeObject, patch: Record<string, unknown>): unknown {
  const dir = mkdtempSync(join(work, "case-"));
  writeFileSync(join(dir, "target.yaml"), stringify(target));
  writeFileSync(join(dir, "patch.yaml"), stringify(patch));
  writeFileSync(join(dir, "kustomization.yaml"), "resources: [target.yaml]\npatches:\n- path: patch.yaml\n");
  const run = spawnSync("kubectl", ["kustomize", dir], { encoding: "utf8", timeout: 60_000 });
  if (run.error || run.status !== 0) throw new Error(`kubectl kustomize failed: ${run.error?.message ?? run.stderr}`);
  return parse(run.stdout, { version: "1.1" });
}

const deploy = (podSpec: Record<string, unknown>, meta: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web", ...meta },
  spec: { selector: { matchLabels: { app: "web" } }, template: { metadata: { labels: { app: "web" } }, spec: podSpec } },
});
const patchOf = (podSpec: Record<string, unknown>, meta: Record<string, unknown> = {}) => ({
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web", ...meta },
  spec: { template: { spec: podSpec } },
});

const rows: Array<[string, KubeObject, Record<string, unknown>]> = [
  [
    "containers: reorder, add, delete, merge",
    deploy({ containers: [{ name: "x", image: "x" }, { name: "app", image: "app", args: ["a"] }, { name: "y", image: "y" }, { name: "w", image: "w" }] }),
    patchOf({ containers: [{ name: "y", image: "Y" }, { name: "n1", image: "n1" }, { name: "app", args: ["b"] }, { name: "x", $patch: "delete" }] }),
  ],
  [
    "env, volumeMounts and volumes by key",
    deploy({
      containers: [{ name: "a", image: "a", env: [{ name: "A", value: "a" }, { name: "B", value: "b" }], volumeMounts: [{ name: "v1", mountPath: "/a" }, { name: "v2", mountPath: "/b" }] }],
      volumes: [{ name: "v1", secret: { secretName: "s" } }, { name: "v2", emptyDir: {} }],
    }),
    patchOf({
      containers: [{ name: "a", env: [{ name: "B", $patch: "delete" }, { name: "C", value: "c" }], volumeMounts: [{ mountPath: "/b", readOnly: true }] }],
      volumes: [{ name: "v1", secret: null, configMap: { name: "c" } }, { name: "v3", emptyDir: { medium: "Memory" } }],
    }),
  ],
  [
    "new content with nulls and delete directives",
    deploy({ containers: [{ name: "a", image: "a" }] }),
    patchOf({ containers: [{ name: "side", image: "s", env: [{ name: "Q", value: null }], resources: { limits: { cpu: null, memory: "1Gi" } } }], securityContext: {} }, { annotations: { gone: null } }),
  ],
  [
    "map and list replace, list and map delete",
    deploy({ containers: [{ name: "a", image: "a", resources: { limits: { cpu: "1" }, requests: { cpu: "1" } } }], volumes: [{ name: "v", emptyDir: {} }], initContainers: [{ name: "i", image: "i" }], nodeSelector: { a: "b" } }),
    patchOf({ containers: [{ name: "a", resources: { $patch: "replace", requests: { cpu: "2" } } }], volumes: [{ $patch: "replace" }, { name: "only", emptyDir: {} }], initContainers: [{ $patch: "delete" }], nodeSelector: { $patch: "delete" } }),
  ],
  [
    "container ports with and without protocol",
    deploy({ containers: [{ name: "a", image: "a", ports: [{ containerPort: 80, protocol: "TCP", name: "http" }, { containerPort: 80, protocol: "UDP", name: "dns" }, { containerPort: 90 }] }] }),
    patchOf({ containers: [{ name: "a", ports: [{ containerPort: 80, protocol: "UDP", name: "dns2" }, { containerPort: 8080, name: "new" }, { containerPort: 90, protocol: "TCP", name: "ignored" }, { containerPort: 80, name: "ignored" }] }] }),
  ],
  [
    "null removes labels, replicas and args; tolerations replaced",
    { ...deploy({ containers: [{ name: "a", image: "a", args: ["x"] }], tolerations: [{ key: "t1" }] }, { labels: { a: "1", b: "2" } }), spec: { replicas: 3, template: { spec: { containers: [{ name: "a", image: "a", args: ["x"] }], tolerations: [{ key: "t1" }] } } } },
    { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", labels: { a: null } }, spec: { replicas: null, template: { spec: { containers: [{ name: "a", args: null }], tolerations: [{ key: "t2" }] } } } },
  ],
  [
    "service ports by port",
    { apiVersion: "v1", kind: "Service", metadata: { name: "s" }, spec: { ports: [{ name: "http", port: 80 }, { name: "grpc", port: 9090, protocol: "TCP" }] } },
    { apiVersion: "v1", kind: "Service", metadata: { name: "s" }, spec: { ports: [{ port: 80, targetPort: 8081 }, { name: "https", port: 443 }, { port: 9090, $patch: "delete" }] } },
  ],
  [
    "custom resource: lists replaced, maps merged",
    { apiVersion: "example.com/v1", kind: "Pipeline", metadata: { name: "p", finalizers: ["a"] }, spec: { stages: [{ name: "a" }, { name: "b" }], settings: { retries: 1, keep: true, flags: { fast: true } } } },
    { apiVersion: "example.com/v1", kind: "Pipeline", metadata: { name: "p", finalizers: ["b"] }, spec: { stages: [{ name: "b", x: 1 }], settings: { retries: 3, flags: null } } },
  ],
  [
    "finalizers merge as a set on built-in kinds",
    { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", finalizers: ["a", "b", "c", "d"] }, data: { k: "v" } },
    { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c", finalizers: ["b", "z1", "z2", "c"] }, data: { k: null, n: "1" } },
  ],
  [
    "cronjob pod template merges containers",
    { apiVersion: "batch/v1", kind: "CronJob", metadata: { name: "cj" }, spec: { schedule: "@daily", jobTemplate: { spec: { template: { spec: { containers: [{ name: "c", image: "c", env: [{ name: "A", value: "a" }] }] } } } } } },
    { apiVersion: "batch/v1", kind: "CronJob", metadata: { name: "cj" }, spec: { jobTemplate: { spec: { template: { spec: { containers: [{ name: "c", env: [{ name: "B", value: "b" }] }] } } } } } },
  ],
  [
    "pod spec keyed lists: imagePullSecrets, hostAliases, topologySpreadConstraints, initContainers",
    deploy({
      containers: [{ name: "a", image: "a" }],
      initContainers: [{ name: "i1", image: "i" }],
      imagePullSecrets: [{ name: "s1" }],
      hostAliases: [{ ip: "10.0.0.1", hostnames: ["a"] }],
      topologySpreadConstraints: [{ topologyKey: "zone", whenUnsatisfiable: "DoNotSchedule", maxSkew: 1 }],
    }),
    patchOf({
      initContainers: [{ name: "i0", image: "i0" }],
      imagePullSecrets: [{ name: "s2" }],
      hostAliases: [{ ip: "10.0.0.1", hostnames: ["b"] }, { ip: "10.0.0.2", hostnames: ["c"] }],
      topologySpreadConstraints: [{ topologyKey: "zone", whenUnsatisfiable: "DoNotSchedule", maxSkew: 2 }, { topologyKey: "host", whenUnsatisfiable: "ScheduleAnyway", maxSkew: 1 }],
    }),
  ],
  [
    "pod: containers and ephemeral containers by name, volumeDevices by devicePath",
    { apiVersion: "v1", kind: "Pod", metadata: { name: "p" }, spec: { containers: [{ name: "a", image: "a", volumeDevices: [{ name: "d", devicePath: "/dev/x" }] }], ephemeralContainers: [{ name: "dbg", image: "busybox" }] } },
    { apiVersion: "v1", kind: "Pod", metadata: { name: "p" }, spec: { containers: [{ name: "a", volumeDevices: [{ name: "d2", devicePath: "/dev/x" }] }], ephemeralContainers: [{ name: "dbg", image: "alpine" }, { name: "dbg2", image: "x" }] } },
  ],
  [
    "statefulset: volumeClaimTemplates replaced, template merged",
    { apiVersion: "apps/v1", kind: "StatefulSet", metadata: { name: "s" }, spec: { serviceName: "s", volumeClaimTemplates: [{ metadata: { name: "data" }, spec: { resources: { requests: { storage: "1Gi" } } } }], template: { spec: { containers: [{ name: "a", image: "a" }] } } } },
    { apiVersion: "apps/v1", kind: "StatefulSet", metadata: { name: "s" }, spec: { volumeClaimTemplates: [{ metadata: { name: "logs" } }], template: { spec: { containers: [{ name: "b", image: "b" }] } } } },
  ],
  [
    "service account secrets by name, webhooks by name, ownerReferences by uid",
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "sa", ownerReferences: [{ uid: "1", name: "o1", kind: "X", apiVersion: "v1" }] }, secrets: [{ name: "t1" }], imagePullSecrets: [{ name: "p1" }] },
    { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "sa", ownerReferences: [{ uid: "2", name: "o2", kind: "X", apiVersion: "v1" }] }, secrets: [{ name: "t2" }], imagePullSecrets: [{ name: "p2" }] },
  ],
  [
    "admission webhooks merge by name",
    { apiVersion: "admissionregistration.k8s.io/v1", kind: "MutatingWebhookConfiguration", metadata: { name: "m" }, webhooks: [{ name: "a.example.com", sideEffects: "None" }, { name: "b.example.com", sideEffects: "None" }] },
    { apiVersion: "admissionregistration.k8s.io/v1", kind: "MutatingWebhookConfiguration", metadata: { name: "m" }, webhooks: [{ name: "b.example.com", timeoutSeconds: 5 }] },
  ],
  [
    "rbac and ingress lists are replaced",
    { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: { name: "r" }, rules: [{ apiGroups: [""], resources: ["pods"], verbs: ["get"] }] },
    { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: { name: "r" }, rules: [{ apiGroups: ["apps"], resources: ["deployments"], verbs: ["list"] }] },
  ],
  [
    "lists without a merge key are replaced verbatim, directives and all",
    deploy({ tolerations: [{ key: "t1" }, { key: "t2" }], containers: [{ name: "a", image: "a", env: [{ name: "A", value: "a" }] }] }),
    patchOf({ tolerations: [{ key: "t1", $patch: "delete" }], containers: [{ name: "a", env: [{ $patch: "replace" }, { name: "B", value: "b" }] }] }),
  ],
  [
    "a keyed-list element without its merge key: only keyed patch elements remain, merged up to the first keyless one",
    deploy({ containers: [{ name: "a", image: "a" }, { name: "b", image: "b" }, { name: "c", image: "c" }] }),
    patchOf({ containers: [{ name: "b", args: ["x"] }, { image: "nokey" }, { name: "a", args: ["y"] }] }),
  ],
  [
    "a keyless element alone empties the keyed list",
    deploy({ containers: [{ name: "a", image: "a", env: [{ name: "A", value: "a" }] }], volumes: [{ name: "v", emptyDir: {} }] }),
    patchOf({ volumes: [{ emptyDir: {} }], containers: [{ name: "a", env: [{ value: "nokey" }] }] }),
  ],
  [
    "root $patch: replace leaves the object as it was",
    deploy({ containers: [{ name: "a", image: "a" }] }),
    { $patch: "replace", apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web" }, spec: { replicas: 2 } },
  ],
];

describe("strategic merge parity with kubectl kustomize", () => {
  it.each(rows)("%s", (_name, target, patch) => {
    expect(applyStrategicMergePatch(target, patch)).toEqual(kustomize(target, patch));
  });
});
