// Typed reading of one mapping of a kustomization file. Every accessor names the field path in
// its error, so a user sees `images[0].newTag must be a string` with the file it is in.
import { ErrorCode } from "@flotilla/model";
import { OverlayError } from "./errors.js";
import { canonicalizeFieldNames } from "./field-names.js";
import type { PatchTarget } from "./patch/index.js";
import { isPlainObject } from "./yaml-io.js";

/** Typed access to one mapping of a kustomization, with errors that name the field path. */
export class FieldReader {
  constructor(
    readonly raw: Record<string, unknown>,
    readonly file: string,
    readonly prefix = "",
  ) {}

  path(key: string): string {
    return this.prefix ? `${this.prefix}.${key}` : key;
  }

  bad(key: string, what: string): OverlayError {
    return new OverlayError(ErrorCode.RenderFailed, `invalid kustomization: ${this.path(key)} ${what}`, {
      file: this.file,
      field: this.path(key),
    });
  }

  sub(value: unknown, path: string): FieldReader {
    const full = this.prefix ? `${this.prefix}.${path}` : path;
    if (!isPlainObject(value)) {
      throw new OverlayError(ErrorCode.RenderFailed, `invalid kustomization: ${full} must be a mapping`, {
        file: this.file,
        field: full,
      });
    }
    return new FieldReader(value, this.file, full);
  }

  /**
   * Refuses keys that are not `allowed` field names, after renaming keys that match one but
   * for case (`NewTag` is newTag) the way kustomize's decoder does.
   */
  checkKeys(allowed: readonly string[]): void {
    canonicalizeFieldNames(this.raw, allowed);
    for (const key of Object.keys(this.raw)) {
      if (!allowed.includes(key)) {
        throw new OverlayError(ErrorCode.KustomizationUnsupported, `unknown field "${this.path(key)}"`, {
          file: this.file,
          field: this.path(key),
        });
      }
    }
  }

  optString(key: string): string | undefined {
    const v = this.raw[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "string") throw this.bad(key, `must be a string (got ${typeof v}); quote the value`);
    return v;
  }

  reqString(key: string): string {
    const v = this.optString(key);
    if (v === undefined || v === "") throw this.bad(key, "is required");
    return v;
  }

  optBool(key: string): boolean | undefined {
    const v = this.raw[key];
    if (v === undefined || v === null) return undefined;
    if (typeof v !== "boolean") throw this.bad(key, "must be true or false");
    return v;
  }

  list(key: string): unknown[] {
    const v = this.raw[key];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) throw this.bad(key, "must be a list");
    return v;
  }

  stringList(key: string): string[] {
    return this.list(key).map((v, i) => {
      if (typeof v !== "string") throw this.bad(`${key}[${i}]`, "must be a string");
      return v;
    });
  }

  stringMap(key: string): Record<string, string> {
    const v = this.raw[key];
    if (v === undefined || v === null) return {};
    if (!isPlainObject(v)) throw this.bad(key, "must be a mapping of strings");
    const out: Record<string, string> = {};
    for (const [k, val] of Object.entries(v)) {
      if (typeof val !== "string") throw this.bad(`${key}.${k}`, `must be a string (got ${JSON.stringify(val)}); quote the value`);
      out[k] = val;
    }
    return out;
  }
}

/** A selector of objects (patch target, replacement select/reject). */
export function parseTarget(r: FieldReader): PatchTarget {
  r.checkKeys(["group", "version", "kind", "name", "namespace", "labelSelector", "annotationSelector"]);
  const t: PatchTarget = {};
  for (const k of ["group", "version", "kind", "name", "namespace", "labelSelector", "annotationSelector"] as const) {
    const v = r.optString(k);
    if (v) t[k] = v;
  }
  return t;
}
