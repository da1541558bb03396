// File access for one render: resolves paths inside the repo, enforces the file-size limit and
// records every path read (files and kustomization directories) for incremental re-rendering.
import { OpenApiState } from "./openapi.js";
import { ErrorCode } from "@flotilla/model";
import { OverlayError, renderFailed } from "./errors.js";
import type { FileView } from "./file-view.js";
import { KUSTOMIZATION_FILE_NAMES, parseKustomizationValue, type Kustomization } from "./kustomization.js";
import { cachedText, documentsOfFile, type Dialect } from "./parse-cache.js";
import { joinPath } from "./repo-paths.js";
import { singleDocument } from "./yaml-io.js";

export interface Limits {
  maxObjects: number;
  maxFileBytes: number;
  maxDepth: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  maxObjects: 20_000,
  maxFileBytes: 8 * 1024 * 1024,
  maxDepth: 64,
});

const utf8 = new TextDecoder("utf-8", { fatal: true });

export class Loader {
  readonly readPaths = new Set<string>();
  /**
   * The build's `openapi:` merge rules. kustomize keeps them in globals that every patch
   * consults; they travel with the loader because every patch entry point already receives it.
   */
  readonly openapi = new OpenApiState();

  constructor(
    readonly view: FileView,
    readonly limits: Limits,
  ) {}

  isDir(path: string): boolean {
    return this.view.listDir(path) !== undefined;
  }

  /** Raw bytes, or undefined when there is no such file. `from` names the referring kustomization. */
  readBytes(path: string, from: { file: string; field: string }): Uint8Array | undefined {
    this.readPaths.add(path);
    const bytes = this.view.readFile(path);
    if (bytes && bytes.byteLength > this.limits.maxFileBytes) {
      throw new OverlayError(
        ErrorCode.RenderFailed,
        `${path} is ${bytes.byteLength} bytes, over the ${this.limits.maxFileBytes}-byte limit for one file`,
        from,
      );
    }
    return bytes;
  }

  /** UTF-8 text of a file that must exist. */
  readText(path: string, from: { file: string; field: string }): string {
    const bytes = this.readBytes(path, from);
    if (!bytes) throw renderFailed(`file "${path}" does not exist`, from);
    return this.textOf(bytes, path, from);
  }

  /** UTF-8 text of bytes read from `path` (decoded once per bytes object). */
  textOf(bytes: Uint8Array, path: string, from: { file: string; field: string }): string {
    return cachedText(bytes, () => decodeUtf8(bytes, path, from));
  }

  /**
   * The YAML documents of a file that must exist: a fresh copy the caller may change (parsed
   * once per distinct content). Errors as readText, then as parseYamlDocuments.
   */
  readDocuments(path: string, from: { file: string; field: string }, dialect: Dialect = "manifest"): unknown[] {
    const bytes = this.readBytes(path, from);
    if (!bytes) throw renderFailed(`file "${path}" does not exist`, from);
    return documentsOfFile(bytes, this.textOf(bytes, path, from), path, dialect);
  }

  /** documentsOf for bytes already read (and decoded to `text`) from `path`. */
  documentsOf(bytes: Uint8Array, text: string, path: string, dialect: Dialect = "manifest"): unknown[] {
    return documentsOfFile(bytes, text, path, dialect);
  }

  /** A single-document YAML file in the kustomization dialect (an empty file is `{}`). */
  readDocument(path: string, from: { file: string; field: string }): unknown {
    return singleDocument(this.readDocuments(path, from, "kustomization"), path);
  }

  /** Loads the kustomization in `dir`; refuses a directory with none or with several. */
  loadKustomization(dir: string, from?: { file: string; field: string }): Kustomization {
    this.readPaths.add(dir === "" ? "." : dir);
    const entries = this.view.listDir(dir);
    if (!entries) throw renderFailed(`"${dir || "."}" is not a directory`, from ?? {});
    const present = KUSTOMIZATION_FILE_NAMES.filter((n) => entries.includes(n));
    if (present.length === 0) {
      throw renderFailed(
        `unable to find one of 'kustomization.yaml', 'kustomization.yml' or 'Kustomization' in directory '${dir || "."}'`,
        from ?? {},
      );
    }
    if (present.length > 1) {
      throw renderFailed(`found multiple kustomization files in '${dir || "."}': ${present.join(", ")}; keep one`, from ?? {});
    }
    const file = joinPath(dir, present[0] as string);
    return parseKustomizationValue(this.readDocument(file, from ?? { file, field: "" }), file, dir);
  }
}

export function decodeUtf8(bytes: Uint8Array, path: string, from: { file: string; field: string }): string {
  try {
    return utf8.decode(bytes).replace(/^\uFEFF/, "");
  } catch (err) {
    throw renderFailed(`file "${path}" is not valid UTF-8`, from, err);
  }
}

export function isUtf8(bytes: Uint8Array): boolean {
  try {
    utf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}
