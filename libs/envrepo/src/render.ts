// The render seam: files at one revision in, one bundle per cluster out. Pure (a FileView and a
// parsed fleet); no Git, no NATS. Failures are returned, each naming app, file and object.
import {
  BUNDLE_API_VERSION,
  ErrorCode,
  RenderError,
  describeRef,
  refKey,
  refOf,
  type App,
  type Bundle,
  type BundleApp,
  type Cluster,
  type ErrorInfo,
  type Fleet,
  type KubeObject,
} from "@flotilla/model";
import type { FileView } from "./file-view.js";
import { checkEnvironment, type EnvironmentFindings } from "./environment-checks.js";
import { appsForCluster, effectivePolicy } from "./fleet-policy.js";
import { defaultKustomizeRenderer, hasKustomization, KUSTOMIZATION_FILES, runKustomize, type KustomizeRenderer } from "./kustomize-seam.js";
import { readPlainManifests, type ObjectOrigin } from "./manifests.js";
import { pinLocked, releaseLockFor } from "./release-locks.js";

export interface RenderOptions {
  /** Overlay engine; default: @flotilla/overlays' renderKustomization when it exists. */
  renderKustomization?: KustomizeRenderer;
}

export type AppRender =
  | { ok: true; objects: KubeObject[]; readPaths: string[]; origins: ObjectOrigin[] }
  | { ok: false; error: ErrorInfo; errors: ErrorInfo[] };

/** Which directory of an app a cluster gets, and how it is rendered. */
export interface AppSource {
  /** `kustomize`: the directory holds a kustomization; `plain`: `<path>` holds plain manifests. */
  kind: "kustomize" | "plain";
  dir: string;
}

/**
 * The directories, most specific first, whose kustomization decides what an app renders on a
 * cluster: `<path>/clusters/<cluster>`, `<path>/envs/<environment>`, `<path>/base`, `<path>`.
 */
export function layerCandidates(app: App, cluster: Cluster): string[] {
  return [`${app.path}/clusters/${cluster.name}`, `${app.path}/envs/${cluster.environment}`, `${app.path}/base`, app.path];
}

/** The most specific candidate directory holding a kustomization; else `<path>` as plain manifests. */
export function appSource(view: FileView, app: App, cluster: Cluster): AppSource {
  const dir = layerCandidates(app, cluster).find((d) => hasKustomization(view, d));
  return dir ? { kind: "kustomize", dir } : { kind: "plain", dir: app.path };
}

/**
 * Renders one app for one cluster. The app directory is the most specific of
 * `<path>/clusters/<cluster>`, `<path>/envs/<environment>`, `<path>/base` and `<path>` that holds
 * a kustomization; without any, `<path>` holds plain manifests. Images are then pinned by the
 * cluster's release lock, if any (release-locks.ts).
 */
export function renderApp(view: FileView, fleet: Fleet, app: App, cluster: Cluster, opts: RenderOptions = {}): AppRender {
  void fleet; // part of the seam: per-environment rendering inputs will come from the fleet file
  const render = renderAppSource(view, app, appSource(view, app, cluster), opts);
  return pinLocked(app, render, releaseLockFor(view, app, cluster));
}

/** Renders an app from an already chosen directory. The result depends only on the view, app and source. */
export function renderAppSource(view: FileView, app: App, source: AppSource, opts: RenderOptions = {}): AppRender {
  if (source.kind === "kustomize") {
    const r = runKustomize(opts.renderKustomization ?? defaultKustomizeRenderer, view, source.dir);
    if (!r.ok) return failed(r.errors.map((e) => inApp(app, e)));
    // Objects carry no source file: policy findings name the kustomization that produced them.
    const file = kustomizationFile(view, source.dir);
    return { ok: true, objects: r.objects, readPaths: r.readPaths, origins: r.objects.map(() => ({ file })) };
  }
  if (view.listDir(app.path) === undefined) {
    return failed([new RenderError(ErrorCode.RenderFailed, `app ${app.name}: path "${app.path}" is not a directory at this revision`, { file: app.path }).toJSON()]);
  }
  const r = readPlainManifests(view, app.path);
  if (!r.ok) return failed(r.errors.map((e) => inApp(app, e)));
  if (r.objects.length === 0) {
    return failed([new RenderError(ErrorCode.RenderFailed, `app ${app.name}: "${app.path}" holds no manifests (*.yaml, *.yml, *.json) and no kustomization`, { file: app.path }).toJSON()]);
  }
  return { ok: true, objects: r.objects, readPaths: r.readPaths, origins: r.origins };
}

function kustomizationFile(view: FileView, dir: string): string {
  const names = view.listDir(dir) ?? [];
  const name = KUSTOMIZATION_FILES.find((n) => names.includes(n)) ?? KUSTOMIZATION_FILES[0]!;
  return `${dir}/${name}`;
}

export type ClusterRender =
  | { ok: true; bundle: Bundle; readPaths: string[]; warnings: ErrorInfo[] }
  | { ok: false; errors: ErrorInfo[]; warnings: ErrorInfo[] };

/** Renders every app a cluster runs into its bundle (apps sorted by name). */
export function renderCluster(view: FileView, fleet: Fleet, cluster: Cluster, revision: string, opts: RenderOptions = {}): ClusterRender {
  const renders = appsForCluster(fleet, cluster).map((app) => ({ app, render: renderApp(view, fleet, app, cluster, opts) }));
  return assembleCluster(fleet, cluster, revision, renders);
}

/**
 * Builds a cluster's bundle from its apps' renders (in app-name order): places objects for a
 * tenant, refuses an object rendered by two apps, and applies the environment's checks. Pure and
 * cheap: the incremental renderer re-runs it over cached app renders.
 */
export function assembleCluster(fleet: Fleet, cluster: Cluster, revision: string, renders: { app: App; render: AppRender }[]): ClusterRender {
  const findings: EnvironmentFindings = { errors: [], warnings: [] };
  const errors = findings.errors;
  const env = fleet.environments.find((e) => e.name === cluster.environment);
  const apps: BundleApp[] = [];
  const readPaths = new Set<string>();
  const owners = new Map<string, string>(); // refKey → app: two apps must not render the same object
  for (const { app, render: r } of renders) {
    if (!r.ok) {
      errors.push(...r.errors);
      continue;
    }
    r.readPaths.forEach((p) => readPaths.add(p));
    const objects: KubeObject[] = [];
    r.objects.forEach((obj, i) => {
      const origin = r.origins[i] ?? { file: app.path };
      const placed = cluster.namespaces ? placeForTenant(obj, cluster, app, origin, errors) : obj;
      if (!placed) return;
      const key = refKey(refOf(placed));
      const owner = owners.get(key);
      if (owner !== undefined) {
        errors.push(appError(app, origin, `${describeRef(refOf(placed))} is also rendered by app ${owner} on cluster ${cluster.name}; an object belongs to one app`));
        return;
      }
      owners.set(key, app.name);
      checkEnvironment(env, app, placed, origin, findings);
      objects.push(placed);
    });
    apps.push({ name: app.name, policy: effectivePolicy(fleet, app, cluster), objects });
  }
  if (errors.length) return { ok: false, errors, warnings: findings.warnings };
  const bundle: Bundle = {
    apiVersion: BUNDLE_API_VERSION,
    cluster: cluster.name,
    revision,
    ...(cluster.namespaces ? { namespaces: [...cluster.namespaces] } : {}),
    apps,
  };
  return { ok: true, bundle, readPaths: [...readPaths].sort(), warnings: findings.warnings };
}

/** Kinds a namespace-scoped (tenant) agent can never apply. Unknown kinds count as namespaced. */
export const CLUSTER_SCOPED_KINDS = new Set([
  "Namespace",
  "Node",
  "PersistentVolume",
  "ClusterRole",
  "ClusterRoleBinding",
  "CustomResourceDefinition",
  "StorageClass",
  "PriorityClass",
  "IngressClass",
  "RuntimeClass",
  "CSIDriver",
  "CSINode",
  "VolumeAttachment",
  "APIService",
  "MutatingWebhookConfiguration",
  "ValidatingWebhookConfiguration",
  "ValidatingAdmissionPolicy",
  "ValidatingAdmissionPolicyBinding",
  "CertificateSigningRequest",
  "FlowSchema",
  "PriorityLevelConfiguration",
]);

/**
 * A tenant cluster runs only inside its namespaces: cluster-scoped kinds are refused, and an
 * object without a namespace goes to the tenant's namespace when it has exactly one.
 */
function placeForTenant(obj: KubeObject, cluster: Cluster, app: App, origin: ObjectOrigin, errors: ErrorInfo[]): KubeObject | undefined {
  const allowed = cluster.namespaces ?? [];
  const what = describeRef(refOf(obj));
  if (CLUSTER_SCOPED_KINDS.has(obj.kind)) {
    errors.push(appError(app, origin, `${what} is cluster-scoped, but cluster ${cluster.name} is a tenant limited to namespaces ${allowed.join(", ")}; remove it or select the app away from this cluster`));
    return undefined;
  }
  const ns = obj.metadata.namespace;
  if (ns === undefined || ns === "") {
    if (allowed.length === 1) return { ...obj, metadata: { ...obj.metadata, namespace: allowed[0]! } };
    errors.push(appError(app, origin, `${what} has no metadata.namespace; tenant cluster ${cluster.name} has several namespaces (${allowed.join(", ")}): set one`));
    return undefined;
  }
  if (!allowed.includes(ns)) {
    errors.push(appError(app, origin, `${what} is in namespace ${ns}, outside tenant cluster ${cluster.name}'s namespaces (${allowed.join(", ")})`));
    return undefined;
  }
  return obj;
}

function appError(app: App, origin: ObjectOrigin, what: string): ErrorInfo {
  const where = origin.line ? `${origin.file}:${origin.line}` : origin.file;
  return new RenderError(ErrorCode.PolicyViolation, `${where}: app ${app.name}: ${what}`, { file: origin.file, ...(origin.line ? { line: origin.line } : {}) }).toJSON();
}

/** Prefixes the app's name so a fleet-wide list of errors says which app each one is about. */
function inApp(app: App, e: ErrorInfo): ErrorInfo {
  return e.message.includes(`app ${app.name}`) ? e : { ...e, message: `app ${app.name}: ${e.message}` };
}

function failed(errors: ErrorInfo[]): AppRender {
  return { ok: false, error: errors[0]!, errors };
}
