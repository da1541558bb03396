// Typed errors with stable codes. The code reaches status, logs and HTTP unchanged; docs/errors.md
// holds the table and test/errors.test.ts keeps the two in sync.

export const ErrorCode = {
  FleetFileInvalid: "FLOTILLA_ERR_FLEET_FILE_INVALID",
  ManifestInvalid: "FLOTILLA_ERR_MANIFEST_INVALID",
  RenderFailed: "FLOTILLA_ERR_RENDER_FAILED",
  KustomizationUnsupported: "FLOTILLA_ERR_KUSTOMIZATION_UNSUPPORTED",
  PathEscapesRepo: "FLOTILLA_ERR_PATH_ESCAPES_REPO",
  PolicyViolation: "FLOTILLA_ERR_POLICY_VIOLATION",
  RepoUnavailable: "FLOTILLA_ERR_REPO_UNAVAILABLE",
  DigestMismatch: "FLOTILLA_ERR_DIGEST_MISMATCH",
  SignatureInvalid: "FLOTILLA_ERR_SIGNATURE_INVALID",
  StaleGeneration: "FLOTILLA_ERR_STALE_GENERATION",
  BundleUnavailable: "FLOTILLA_ERR_BUNDLE_UNAVAILABLE",
  BundleTooLarge: "FLOTILLA_ERR_BUNDLE_TOO_LARGE",
  ReportInvalid: "FLOTILLA_ERR_REPORT_INVALID",
  ApplyFailed: "FLOTILLA_ERR_APPLY_FAILED",
  Forbidden: "FLOTILLA_ERR_FORBIDDEN",
  NotFound: "FLOTILLA_ERR_NOT_FOUND",
  BadRequest: "FLOTILLA_ERR_BAD_REQUEST",
  ConfigInvalid: "FLOTILLA_ERR_CONFIG_INVALID",
  Internal: "FLOTILLA_ERR_INTERNAL",
  Unauthorized: "FLOTILLA_ERR_UNAUTHORIZED",
  ImageNotPinned: "FLOTILLA_ERR_IMAGE_NOT_PINNED",
  SelfApproval: "FLOTILLA_ERR_SELF_APPROVAL",
  PromotionConflict: "FLOTILLA_ERR_PROMOTION_CONFLICT",
  PromotionState: "FLOTILLA_ERR_PROMOTION_STATE",
  IdempotencyKeyReused: "FLOTILLA_ERR_IDEMPOTENCY_KEY_REUSED",
  FreezeWindow: "FLOTILLA_ERR_FREEZE_WINDOW",
  RateLimited: "FLOTILLA_ERR_RATE_LIMITED",
  WebhookSignatureInvalid: "FLOTILLA_ERR_WEBHOOK_SIGNATURE_INVALID",
  NotLeader: "FLOTILLA_ERR_NOT_LEADER",
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** HTTP status for each code, used by the API's error handler. */
export const httpStatusOf: Record<ErrorCode, number> = {
  FLOTILLA_ERR_FLEET_FILE_INVALID: 422,
  FLOTILLA_ERR_MANIFEST_INVALID: 422,
  FLOTILLA_ERR_RENDER_FAILED: 422,
  FLOTILLA_ERR_KUSTOMIZATION_UNSUPPORTED: 422,
  FLOTILLA_ERR_PATH_ESCAPES_REPO: 422,
  FLOTILLA_ERR_POLICY_VIOLATION: 422,
  FLOTILLA_ERR_REPO_UNAVAILABLE: 503,
  FLOTILLA_ERR_DIGEST_MISMATCH: 422,
  FLOTILLA_ERR_SIGNATURE_INVALID: 422,
  FLOTILLA_ERR_STALE_GENERATION: 409,
  FLOTILLA_ERR_BUNDLE_UNAVAILABLE: 503,
  FLOTILLA_ERR_BUNDLE_TOO_LARGE: 422,
  FLOTILLA_ERR_REPORT_INVALID: 400,
  FLOTILLA_ERR_APPLY_FAILED: 500,
  FLOTILLA_ERR_FORBIDDEN: 403,
  FLOTILLA_ERR_NOT_FOUND: 404,
  FLOTILLA_ERR_BAD_REQUEST: 400,
  FLOTILLA_ERR_CONFIG_INVALID: 400,
  FLOTILLA_ERR_INTERNAL: 500,
  FLOTILLA_ERR_UNAUTHORIZED: 401,
  FLOTILLA_ERR_IMAGE_NOT_PINNED: 422,
  FLOTILLA_ERR_SELF_APPROVAL: 403,
  FLOTILLA_ERR_PROMOTION_CONFLICT: 409,
  FLOTILLA_ERR_PROMOTION_STATE: 409,
  FLOTILLA_ERR_IDEMPOTENCY_KEY_REUSED: 409,
  FLOTILLA_ERR_FREEZE_WINDOW: 409,
  FLOTILLA_ERR_RATE_LIMITED: 429,
  FLOTILLA_ERR_WEBHOOK_SIGNATURE_INVALID: 401,
  FLOTILLA_ERR_NOT_LEADER: 503,
};

/** Where in the env repo (or a config file) an error comes from. */
export interface SourceLocation {
  file?: string;
  line?: number;
  column?: number;
  field?: string;
}

export class FlotillaError extends Error {
  override readonly name: string = "FlotillaError";
  readonly code: ErrorCode;
  readonly location: SourceLocation | undefined;

  constructor(code: ErrorCode, message: string, opts: { cause?: unknown; location?: SourceLocation } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.code = code;
    this.location = opts.location;
  }

  get httpStatus(): number {
    return httpStatusOf[this.code];
  }

  /** The shape errors take in status, reports, the database and HTTP bodies. */
  toJSON(): ErrorInfo {
    return { code: this.code, message: this.message, ...(this.location ? { location: this.location } : {}) };
  }
}

export interface ErrorInfo {
  code: ErrorCode;
  message: string;
  location?: SourceLocation;
}

export class FleetFileError extends FlotillaError {
  override readonly name = "FleetFileError";
  constructor(message: string, location: SourceLocation, cause?: unknown) {
    super(ErrorCode.FleetFileInvalid, message, { location, cause });
  }
}

export class ManifestError extends FlotillaError {
  override readonly name = "ManifestError";
  constructor(message: string, location: SourceLocation, cause?: unknown) {
    super(ErrorCode.ManifestInvalid, message, { location, cause });
  }
}

export class RenderError extends FlotillaError {
  override readonly name = "RenderError";
  constructor(code: ErrorCode, message: string, location?: SourceLocation, cause?: unknown) {
    super(code, message, { ...(location ? { location } : {}), cause });
  }
}

export class PolicyError extends FlotillaError {
  override readonly name = "PolicyError";
  constructor(message: string, location?: SourceLocation) {
    super(ErrorCode.PolicyViolation, message, location ? { location } : {});
  }
}

export class DesiredStateError extends FlotillaError {
  override readonly name = "DesiredStateError";
}

/** Normalises anything thrown into ErrorInfo without losing a FlotillaError's code. */
export function toErrorInfo(err: unknown, fallback: ErrorCode = ErrorCode.ApplyFailed): ErrorInfo {
  if (err instanceof FlotillaError) return err.toJSON();
  const message = err instanceof Error ? err.message : String(err);
  return { code: fallback, message };
}
