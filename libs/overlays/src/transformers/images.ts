// `images:` — rewrites the `image` of every entry of any `containers` / `initContainers` list
// (kustomize's legacy image filter, which covers pods, templates and custom resources alike).
import { walkFieldSpecs, type FieldSpec } from "../field-spec.js";
import type { ImageEntry } from "../kustomization.js";
import type { Resource } from "../resource.js";
import { isPlainObject } from "../yaml-io.js";

/** kustomize's image.Split: name, tag and digest of an image reference. */
export function splitImage(image: string): { name: string; tag: string; digest: string } {
  const slash = image.indexOf("/");
  const offset = slash > 0 ? slash : 0;
  const search = image.slice(offset);
  let id = search.indexOf("@");
  let ic = search.indexOf(":");
  if (ic < 0 && id < 0) return { name: image, tag: "", digest: "" };
  if (id >= 0 && (id < ic || ic < 0)) {
    id += offset;
    return { name: image.slice(0, id), tag: "", digest: image.slice(id + 1) };
  }
  if (id >= 0 && ic >= 0) {
    id += offset;
    ic += offset;
    return { name: image.slice(0, ic), tag: image.slice(ic + 1, id), digest: image.slice(id + 1) };
  }
  ic += offset;
  return { name: image.slice(0, ic), tag: image.slice(ic + 1), digest: "" };
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * kustomize matches `images[].name` as an (unescaped) regular expression followed by an optional
 * tag and digest, so `app.v1` also matches `appxv1`. Keep that, falling back to a literal match
 * when the name is not a valid expression.
 */
export function imageMatches(image: string, name: string): boolean {
  const rest = "(@sha256)?(:[a-zA-Z0-9_.{}-]*)?(@sha256:[a-zA-Z0-9]*)?$";
  let pattern: RegExp;
  try {
    pattern = new RegExp(`^${name}${rest}`);
  } catch {
    pattern = new RegExp(`^${escapeRegExp(name)}${rest}`);
  }
  return pattern.test(image);
}

export function updateImage(image: string, entry: ImageEntry): string {
  if (!imageMatches(image, entry.name)) return image;
  let { name, tag, digest } = splitImage(image);
  if (entry.newName) name = entry.newName;
  if (entry.newTag && entry.digest) {
    tag = entry.newTag;
    digest = entry.digest;
  } else if (entry.newTag) {
    tag = entry.newTag;
    digest = "";
  } else if (entry.digest) {
    tag = "";
    digest = entry.digest;
  }
  return name + (tag ? `:${tag}` : "") + (digest ? `@${digest}` : "");
}

export function applyImages(resources: Resource[], images: ImageEntry[], specs: FieldSpec[]): void {
  const visit = (node: unknown, entry: ImageEntry): void => {
    if (Array.isArray(node)) {
      for (const el of node) visit(el, entry);
      return;
    }
    if (!isPlainObject(node)) return;
    for (const [key, value] of Object.entries(node)) {
      if ((key === "containers" || key === "initContainers") && Array.isArray(value)) {
        for (const c of value) {
          if (isPlainObject(c) && typeof c.image === "string") c.image = updateImage(c.image, entry);
        }
      }
      visit(value, entry);
    }
  };
  for (const entry of images) {
    for (const r of resources) {
      visit(r.obj, entry);
      // Image fields that `configurations` declare (custom resources), e.g. spec/image.
      walkFieldSpecs(r.obj, specs, (parent, key) => {
        const v = parent[key];
        if (typeof v === "string") parent[key] = updateImage(v, entry);
      });
    }
  }
}
