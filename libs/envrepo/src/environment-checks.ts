// Checks an environment imposes on the objects of its clusters' bundles: image references pinned
// by digest (`requireDigests`) and plaintext Secrets in Git (`secrets: refuse | warn`).
import { ErrorCode, RenderError, describeRef, refOf, type App, type Environment, type ErrorInfo, type KubeObject } from "@flotilla/model";
import type { ObjectOrigin } from "./manifests.js";

export interface EnvironmentFindings {
  errors: ErrorInfo[];
  warnings: ErrorInfo[];
}

export function checkEnvironment(env: Environment | undefined, app: App, obj: KubeObject, origin: ObjectOrigin, into: EnvironmentFindings): void {
  if (!env) return;
  const what = describeRef(refOf(obj));
  if (env.requireDigests) {
    for (const image of imagesOf(obj)) {
      if (!/@sha256:[0-9a-f]{64}$/.test(image)) {
        into.errors.push(finding(app, origin, `${what} uses image "${image}" by tag; environment ${env.name} requires digests (image@sha256:…)`));
      }
    }
  }
  if (obj.kind === "Secret" && obj.apiVersion === "v1" && (env.secrets === "refuse" || env.secrets === "warn")) {
    const msg = `${what} is a plaintext Secret in Git; environment ${env.name} ${env.secrets === "refuse" ? "refuses them: use a sealed or external secret" : "warns about them"}`;
    (env.secrets === "refuse" ? into.errors : into.warnings).push(finding(app, origin, msg));
  }
}

/** Container images of a Pod, a pod template (Deployment, StatefulSet, DaemonSet, Job, ReplicaSet) or a CronJob. */
export function imagesOf(obj: KubeObject): string[] {
  const spec = obj.spec as Record<string, unknown> | undefined;
  const podSpecs: unknown[] = [];
  if (obj.kind === "Pod") podSpecs.push(spec);
  const template = spec?.template as { spec?: unknown } | undefined;
  if (template?.spec) podSpecs.push(template.spec);
  const jobTemplate = spec?.jobTemplate as { spec?: { template?: { spec?: unknown } } } | undefined;
  if (jobTemplate?.spec?.template?.spec) podSpecs.push(jobTemplate.spec.template.spec);
  const out: string[] = [];
  for (const ps of podSpecs) {
    const p = ps as Record<string, unknown> | undefined;
    for (const list of ["initContainers", "containers", "ephemeralContainers"]) {
      const containers = p?.[list];
      if (!Array.isArray(containers)) continue;
      for (const c of containers) if (c && typeof (c as { image?: unknown }).image === "string") out.push((c as { image: string }).image);
    }
  }
  return out;
}

function finding(app: App, origin: ObjectOrigin, what: string): ErrorInfo {
  const where = origin.line ? `${origin.file}:${origin.line}` : origin.file;
  return new RenderError(ErrorCode.PolicyViolation, `${where}: app ${app.name}: ${what}`, { file: origin.file, ...(origin.line ? { line: origin.line } : {}) }).toJSON();
}
