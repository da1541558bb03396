// Release locks: the files a promotion commits to pin a release (its image digests) for an
// environment (`promotions/<app>/<env>.lock.yaml`) or for one cluster of it
// (`promotions/<app>/<env>/<cluster>.lock.yaml`, written wave by wave). Rendering an app for a
// cluster sets the images of its containers from the cluster's lock, else the environment's:
// a wave commit changes only its clusters' bundles, and a rollback is the revert of those files.
import { parse, stringify } from "yaml";
import {
  ErrorCode,
  RenderError,
  clusterLockPath,
  envLockPath,
  type App,
  type Cluster,
  type ErrorInfo,
  type KubeObject,
  type ReleaseImage,
  type ReleaseLock,
} from "@flotilla/model";
import type { FileView } from "./file-view.js";
import { YAML_OPTIONS } from "./yaml-source.js";

export const RELEASE_LOCK_API_VERSION = "flotilla.dev/v1alpha1";

export type LockRead = { ok: true; lock: ReleaseLock | undefined; path?: string } | { ok: false; error: ErrorInfo };

/** The lock that pins `app` on `cluster`: the cluster's own, else its environment's, else none. */
export function releaseLockFor(view: FileView, app: App, cluster: Cluster): LockRead {
  for (const path of lockPathsFor(app, cluster)) {
    const bytes = view.readFile(path);
    if (bytes) {
      const r = parseLockBytes(bytes, path);
      return r.ok ? { ok: true, lock: r.lock, path } : r;
    }
  }
  return { ok: true, lock: undefined };
}

/** The lock files that can pin an app on a cluster, most specific first (read paths of a render). */
export function lockPathsFor(app: App, cluster: Cluster): [string, string] {
  return [clusterLockPath(app.name, cluster.environment, cluster.name), envLockPath(app.name, cluster.environment)];
}

/** The YAML text of a lock file (stable key order: the same lock is the same blob). */
export function lockFileText(lock: ReleaseLock): string {
  const { apiVersion, kind, app, environment, cluster, release, sourceRevision, images, promotion } = lock;
  const ordered = { apiVersion, kind, app, environment, ...(cluster ? { cluster } : {}), release, sourceRevision, images: images.map(orderedImage), promotion };
  return `# Written by Flotilla's promotion controller: edit through the promotion API (docs/promotion.md).\n${stringify(ordered)}`;
}

const orderedImage = (i: ReleaseImage): ReleaseImage => ({ name: i.name, ...(i.tag ? { tag: i.tag } : {}), ...(i.digest ? { digest: i.digest } : {}) });

const parsedByBlob = new WeakMap<Uint8Array, { ok: true; lock: ReleaseLock } | { ok: false; error: ErrorInfo }>();
const DIGEST = /^sha256:[0-9a-f]{64}$/;

/** Parses a lock file; the result is remembered per blob (1,000 clusters share a few blobs). */
export function parseLockBytes(bytes: Uint8Array, path: string): { ok: true; lock: ReleaseLock } | { ok: false; error: ErrorInfo } {
  const hit = parsedByBlob.get(bytes);
  if (hit) return hit;
  const r = parseLock(new TextDecoder().decode(bytes), path);
  parsedByBlob.set(bytes, r);
  return r;
}

function parseLock(text: string, path: string): { ok: true; lock: ReleaseLock } | { ok: false; error: ErrorInfo } {
  const bad = (field: string, what: string) => ({
    ok: false as const,
    error: new RenderError(ErrorCode.ManifestInvalid, `${path}: ${field} ${what}; lock files are written by the promotion API, restore this one with git revert`, { file: path, field }).toJSON(),
  });
  let doc: unknown;
  try {
    doc = parse(text, YAML_OPTIONS);
  } catch (err) {
    return bad("(document)", `is not valid YAML (${(err as Error).message.split("\n")[0]})`);
  }
  if (!doc || typeof doc !== "object" || Array.isArray(doc)) return bad("(document)", "must be a mapping");
  const o = doc as Record<string, unknown>;
  if (o.kind !== "ReleaseLock") return bad("kind", `must be ReleaseLock (found ${JSON.stringify(o.kind)})`);
  for (const f of ["app", "environment", "release", "sourceRevision", "promotion"]) {
    if (typeof o[f] !== "string" || o[f] === "") return bad(f, "must be a non-empty string");
  }
  if (!Array.isArray(o.images)) return bad("images", "must be a list of {name, digest?, tag?}");
  const images: ReleaseImage[] = [];
  for (const [i, raw] of o.images.entries()) {
    const img = raw as Record<string, unknown> | null;
    if (!img || typeof img.name !== "string" || img.name === "") return bad(`images[${i}].name`, "must be a non-empty string");
    if (img.digest !== undefined && (typeof img.digest !== "string" || !DIGEST.test(img.digest))) return bad(`images[${i}].digest`, "must be sha256:<64 hex>");
    if (img.tag !== undefined && typeof img.tag !== "string") return bad(`images[${i}].tag`, "must be a string");
    if (img.digest === undefined && img.tag === undefined) return bad(`images[${i}]`, "needs a digest or a tag");
    images.push(orderedImage(img as unknown as ReleaseImage));
  }
  return {
    ok: true,
    lock: {
      apiVersion: RELEASE_LOCK_API_VERSION,
      kind: "ReleaseLock",
      app: o.app as string,
      environment: o.environment as string,
      ...(typeof o.cluster === "string" ? { cluster: o.cluster } : {}),
      release: o.release as string,
      sourceRevision: o.sourceRevision as string,
      images,
      promotion: o.promotion as string,
    },
  };
}

/** `ghcr.io/acme/shop:1.2@sha256:…` → `ghcr.io/acme/shop` (a registry port is not a tag). */
export function imageName(image: string): string {
  const at = image.indexOf("@");
  const ref = at < 0 ? image : image.slice(0, at);
  const colon = ref.lastIndexOf(":");
  return colon > ref.lastIndexOf("/") ? ref.slice(0, colon) : ref;
}

/** The reference a release pins an image to: by digest when it has one, else by tag. */
export function pinnedReference(image: ReleaseImage): string {
  return image.digest ? `${image.name}@${image.digest}` : `${image.name}:${image.tag ?? "latest"}`;
}

/**
 * The objects with every container whose image a release names set to the release's reference.
 * Objects without such a container are returned as they are (same object: cached renders stay shared).
 */
export function pinImages(objects: KubeObject[], images: readonly ReleaseImage[]): KubeObject[] {
  if (images.length === 0) return objects;
  const byName = new Map(images.map((i) => [i.name, pinnedReference(i)]));
  return objects.map((obj) => pinObject(obj, byName));
}

function pinObject(obj: KubeObject, byName: Map<string, string>): KubeObject {
  let changed = false;
  const pinPodSpec = (podSpec: unknown): unknown => {
    if (!podSpec || typeof podSpec !== "object") return podSpec;
    const ps = podSpec as Record<string, unknown>;
    let out = ps;
    for (const list of ["initContainers", "containers", "ephemeralContainers"]) {
      const containers = ps[list];
      if (!Array.isArray(containers)) continue;
      let listChanged = false;
      const next = containers.map((c: unknown) => {
        const image = c && typeof c === "object" ? (c as { image?: unknown }).image : undefined;
        if (typeof image !== "string") return c;
        const pinned = byName.get(imageName(image));
        if (pinned === undefined || pinned === image) return c;
        listChanged = true;
        return { ...(c as object), image: pinned };
      });
      if (listChanged) {
        out = { ...out, [list]: next };
        changed = true;
      }
    }
    return out;
  };
  const spec = obj.spec as Record<string, unknown> | undefined;
  if (!spec) return obj;
  let nextSpec: Record<string, unknown> = spec;
  if (obj.kind === "Pod") nextSpec = pinPodSpec(spec) as Record<string, unknown>;
  const template = spec.template as Record<string, unknown> | undefined;
  if (template?.spec) {
    const ts = pinPodSpec(template.spec);
    if (ts !== template.spec) nextSpec = { ...nextSpec, template: { ...template, spec: ts } };
  }
  const jobTemplate = spec.jobTemplate as { spec?: { template?: Record<string, unknown> } } | undefined;
  const jt = jobTemplate?.spec?.template;
  if (jt?.spec) {
    const ts = pinPodSpec(jt.spec);
    if (ts !== jt.spec) nextSpec = { ...nextSpec, jobTemplate: { ...jobTemplate, spec: { ...jobTemplate!.spec, template: { ...jt, spec: ts } } } };
  }
  return changed ? { ...obj, spec: nextSpec } : obj;
}

/** Pins an app render by the cluster's release lock (see releaseLockFor); a broken lock fails the app. */
export function pinLocked<R extends { ok: true; objects: KubeObject[] } | { ok: false; error: ErrorInfo; errors: ErrorInfo[] }>(
  app: App,
  render: R,
  lock: LockRead,
): R | { ok: false; error: ErrorInfo; errors: ErrorInfo[] } {
  if (!render.ok) return render;
  if (!lock.ok) {
    const error = { ...lock.error, message: `app ${app.name}: ${lock.error.message}` };
    return { ok: false, error, errors: [error] };
  }
  if (!lock.lock) return render;
  return { ...render, objects: pinImages(render.objects, lock.lock.images) };
}
