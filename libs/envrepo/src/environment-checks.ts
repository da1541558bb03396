// Checks an environment imposes on the objects of its clusters' bundles: image references pinned
// by digest (`requireDigests`) and plaintext Secrets in Git (`secrets: refuse | warn`).
import { ErrorCode, RenderError, describeRef, refOf, type App, type Environment, type ErrorInfo, type KubeObject } from "@flotilla/model";
import { imageFields } from "./image-fields.js";
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

function finding(app: App, origin: ObjectOrigin, what: string): ErrorInfo {
  const where = origin.line ? `${origin.file}:${origin.line}` : origin.file;
  return new RenderError(ErrorCode.PolicyViolation, `${where}: app ${app.name}: ${what}`, { file: origin.file, ...(origin.line ? { line: origin.line } : {}) }).toJSON();
}
