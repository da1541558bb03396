// A patch that cannot be applied. Thrown by the patch engine; the overlay renderer wraps it into
// its own error that names the kustomization file and the patch entry.

export class PatchError extends Error {
  override readonly name: string = "PatchError";
  /** The JSON 6902 operation (`replace`), or the directive (`$patch`) that failed, when known. */
  readonly op: string | undefined;
  /** The JSON pointer or field path where it failed, when known. */
  readonly path: string | undefined;

  constructor(message: string, opts: { op?: string; path?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.op = opts.op;
    this.path = opts.path;
  }
}
