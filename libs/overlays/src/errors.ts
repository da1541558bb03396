// The one error type the overlay engine reports. It carries a stable FLOTILLA_ERR_* code and
// points at the kustomization or manifest file (and field / line) that caused it.
import { ErrorCode, FlotillaError } from "@flotilla/model";

export interface OverlayErrorLocation {
  file?: string;
  field?: string;
  line?: number;
}

export class OverlayError extends FlotillaError {
  override readonly name = "OverlayError";
  readonly file: string | undefined;
  readonly field: string | undefined;
  readonly line: number | undefined;
  /** The message without the location prefix. */
  readonly reason: string;

  constructor(code: ErrorCode, message: string, where: OverlayErrorLocation = {}, cause?: unknown) {
    super(code, decorate(message, where), {
      ...(cause === undefined ? {} : { cause }),
      ...(where.file || where.field || where.line ? { location: stripUndefined(where) } : {}),
    });
    this.file = where.file;
    this.field = where.field;
    this.line = where.line;
    this.reason = message;
  }

  /** The same error, its message also naming the kustomization (and field) that listed the file. */
  listedIn(kustomizationFile: string, field: string): OverlayError {
    const where: OverlayErrorLocation = {};
    if (this.file !== undefined) where.file = this.file;
    if (this.field !== undefined) where.field = this.field;
    if (this.line !== undefined) where.line = this.line;
    return new OverlayError(this.code, `${this.reason} (listed in ${kustomizationFile} ${field})`, where, this.cause);
  }
}

function decorate(message: string, where: OverlayErrorLocation): string {
  if (!where.file) return message;
  const at = where.line ? `${where.file}:${where.line}` : where.file;
  const field = where.field ? ` (field ${where.field})` : "";
  return `${at}${field}: ${message}`;
}

function stripUndefined(where: OverlayErrorLocation): OverlayErrorLocation {
  const out: OverlayErrorLocation = {};
  if (where.file !== undefined) out.file = where.file;
  if (where.field !== undefined) out.field = where.field;
  if (where.line !== undefined) out.line = where.line;
  return out;
}

/** Kustomization content the engine does not support or that kustomize would refuse. */
export function unsupported(file: string, field: string, message: string): OverlayError {
  return new OverlayError(ErrorCode.KustomizationUnsupported, message, { file, field });
}

/** A render failure attributable to a kustomization file. */
export function renderFailed(message: string, where: OverlayErrorLocation = {}, cause?: unknown): OverlayError {
  return new OverlayError(ErrorCode.RenderFailed, message, where, cause);
}

export function manifestInvalid(message: string, where: OverlayErrorLocation = {}, cause?: unknown): OverlayError {
  return new OverlayError(ErrorCode.ManifestInvalid, message, where, cause);
}
