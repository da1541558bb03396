// Checks an environment imposes on the objects of its clusters' bundles: image references pinned
// by digest (`requireDigests`) and plaintext Secrets in Git (`secrets: refuse | warn`).
import { ErrorCode, RenderError, describeRef, refOf, type App, type Environment, type ErrorInfo, type KubeObject } from "@flotilla/model";
import { lineOfField, type ObjectOrigin } from "./manifests.js";

export interface EnvironmentFindings {
  errors: ErrorInfo[];
  warnings: ErrorInfo[];
}

export function checkEnvironment(env: Environment | undefined, app: App, obj: KubeObject, origin: ObjectOrigin, into: EnvironmentFindings): void {
  if (!env) return;
  const what = describeRef(refOf(obj));
  if (env.requireDigests) {
    for (const { image, field } of imageFields(obj)) {
      if (!/@sha256:[0-9a-f]{64}$/.test(image)) {
        // Name the line of the image field itself when the object came from a plain manifest.
        const line = lineOfField(obj, field);
        const at = line ? { ...origin, line } : origin;
        into.errors.push(finding(app, at, `${what} uses image "${image}" by tag; environment ${env.name} requires digests (image@sha256:…)`));
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
  return imageFields(obj).map((f) => f.image);
}

/** Each container image with the path of its field in the object. */
function imageFields(obj: KubeObject): { image: string; field: (string | number)[] }[] {
  const spec = obj.spec as Record<string, unknown> | undefined;
  const podSpecs: { spec: unknown; at: string[] }[] = [];
  if (obj.kind === "Pod") podSpecs.push({ spec, at: ["spec"] });
  const template = spec?.template as { spec?: unknown } | undefined;
  if (template?.spec) podSpecs.push({ spec: template.spec, at: ["spec", "template", "spec"] });
  const jobTemplate = spec?.jobTemplate as { spec?: { template?: { spec?: unknown } } } | undefined;
  if (jobTemplate?.spec?.template?.spec) podSpecs.push({ spec: jobTemplate.spec.template.spec, at: ["spec", "jobTemplate", "spec", "template", "spec"] });
  const out: { image: string; field: (string | number)[] }[] = [];
  for (const { spec: ps, at } of podSpecs) {
    const p = ps as Record<string, unknown> | undefined;
    for (const list of ["initContainers", "containers", "ephemeralContainers"]) {
      const containers = p?.[list];
      if (!Array.isArray(containers)) continue;
      containers.forEach((c, i) => {
        const image = c && typeof c === "object" ? (c as { image?: unknown }).image : undefined;
        if (typeof image === "string") out.push({ image, field: [...at, list, i, "image"] });
      });
    }
  }
  return out;
}

function finding(app: App, origin: ObjectOrigin, what: string): ErrorInfo {
  const where = origin.line ? `${origin.file}:${origin.line}` : origin.file;
  return new RenderError(ErrorCode.PolicyViolation, `${where}: app ${app.name}: ${what}`, { file: origin.file, ...(origin.line ? { line: origin.line } : {}) }).toJSON();
}
