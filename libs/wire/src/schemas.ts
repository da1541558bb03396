// Runtime validation of everything that crosses NATS. A message that fails validation is a
// ReportInvalid error naming the field — never a crash, never silently dropped.
import { z } from "zod";
import {
  BUNDLE_API_VERSION,
  ChangeAction,
  DriftAction,
  DriftPolicy,
  ErrorCode,
  FlotillaError,
  Health,
  SyncState,
  values,
  type Bundle,
  type Report,
  type SignedPointer,
} from "@flotilla/model";
import { findUnstorableText, storableText } from "./storable-text.js";

const enumOf = <T extends Record<string, string>>(o: T) => z.enum(values(o) as unknown as [string, ...string[]]);

const objectRef = z.object({ group: z.string(), kind: z.string().min(1), namespace: z.string(), name: z.string().min(1) });
const errorInfo = z.object({
  code: z.string(),
  message: z.string(),
  location: z
    .object({ file: z.string().optional(), line: z.number().optional(), column: z.number().optional(), field: z.string().optional() })
    .optional(),
});
const header = { id: z.string().min(1), cluster: z.string().min(1), agent: z.string().min(1), at: z.string().min(1) };

export const statusReportSchema = z.object({
  ...header,
  kind: z.literal("status"),
  generation: z.number().int().nonnegative(),
  revision: z.string(),
  bundleDigest: z.string(),
  observedRevision: z.string().optional(),
  syncState: enumOf(SyncState),
  health: enumOf(Health),
  apps: z.array(
    z.object({
      name: z.string(),
      health: enumOf(Health),
      objects: z.array(
        z.object({
          ref: objectRef,
          action: enumOf(ChangeAction),
          reason: z.string(),
          message: z.string().optional(),
          health: enumOf(Health),
          healthReason: z.string().optional(),
          images: z.array(z.string()).optional(),
        }),
      ),
    }),
  ),
  lastError: errorInfo.optional(),
});

export const driftReportSchema = z.object({
  ...header,
  kind: z.literal("drift"),
  generation: z.number().int().nonnegative(),
  revision: z.string(),
  app: z.string(),
  object: objectRef,
  paths: z.array(z.object({ path: z.string(), desired: z.unknown(), live: z.unknown() })).min(1),
  actor: z.string(),
  changedAt: z.string().optional(),
  policy: enumOf(DriftPolicy),
  action: enumOf(DriftAction),
});

export const heartbeatReportSchema = z.object({
  ...header,
  kind: z.literal("heartbeat"),
  generation: z.number().int().nonnegative(),
  deadlineSeconds: z.number().positive(),
});

export const reportSchema = z.discriminatedUnion("kind", [statusReportSchema, driftReportSchema, heartbeatReportSchema]);

export const signedPointerSchema = z.object({
  cluster: z.string().min(1),
  revision: z.string().min(1),
  bundleDigest: z.string().regex(/^sha256:[0-9a-f]{64}$/),
  generation: z.number().int().positive(),
  issuedAt: z.string(),
  commit: z.object({ author: z.string(), message: z.string() }).optional(),
  trace: z
    .object({
      traceparent: z.string().regex(/^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/, "must be a W3C traceparent (version-traceid-spanid-flags)"),
      tracestate: z.string().max(512).optional(),
    })
    .optional(),
  keyId: z.string(),
  signature: z.string(),
});

const policy = z.object({
  drift: enumOf(DriftPolicy),
  prune: z.boolean(),
  ignore: z.array(
    z.object({
      kind: z.string().optional(),
      group: z.string().optional(),
      name: z.string().optional(),
      namespace: z.string().optional(),
      paths: z.array(z.string()),
    }),
  ),
});

export const bundleSchema = z.object({
  apiVersion: z.literal(BUNDLE_API_VERSION),
  cluster: z.string().min(1),
  revision: z.string().min(1),
  namespaces: z.array(z.string()).optional(),
  apps: z.array(
    z.object({
      name: z.string(),
      policy,
      objects: z.array(
        z.looseObject({
          apiVersion: z.string().min(1),
          kind: z.string().min(1),
          metadata: z.looseObject({ name: z.string().min(1), namespace: z.string().optional() }),
        }),
      ),
    }),
  ),
});

/** Validates `value`; a failure is a ReportInvalid error naming `what` and the first bad field. */
export function parseWith<T>(schema: z.ZodType, what: string, value: unknown): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data as T;
  const issue = r.error.issues[0];
  const field = issue ? issue.path.join(".") : "";
  throw new FlotillaError(ErrorCode.ReportInvalid, `invalid ${what}: ${field ? `field "${field}": ` : ""}${issue?.message ?? "malformed"}`, {
    location: { field },
  });
}

/**
 * Validates a report. Besides the schema, no string or key may hold text the database cannot
 * store (NUL, a lone surrogate): refused here, naming the field.
 */
export function parseReport(v: unknown): Report {
  const report = parseWith<Report>(reportSchema, "report", v);
  const bad = findUnstorableText(report);
  if (bad) {
    const field = storableText(bad.field);
    throw new FlotillaError(
      ErrorCode.ReportInvalid,
      `invalid report: field "${field}": ${bad.isKey ? "a key" : "the value"} contains a NUL character or a lone UTF-16 surrogate, which cannot be stored`,
      { location: { field } },
    );
  }
  return report;
}
export const parseSignedPointer = (v: unknown): SignedPointer => parseWith<SignedPointer>(signedPointerSchema, "desired pointer", v);
export const parseBundle = (v: unknown): Bundle => parseWith<Bundle>(bundleSchema, "bundle", v);
