// Break-glass control records: signed by the hub with the same ed25519 key as desired pointers.
// Agents trust only a hub-signed record — otherwise anyone who can write the KV bucket could
// silence drift enforcement.
import { sign, verify, type KeyObject } from "node:crypto";
import { z } from "zod";
import { BreakGlassScope, ErrorCode, FlotillaError, values, type ControlRecord, type SignedControlRecord } from "@flotilla/model";
import { canonicalJson } from "./canonical.js";
import type { SigningKey } from "./signing.js";

const objectRef = z.object({ group: z.string(), kind: z.string().min(1), namespace: z.string(), name: z.string().min(1) });
const timestamp = z.string().refine((s) => !Number.isNaN(Date.parse(s)), "not an ISO-8601 timestamp");

export const breakGlassWindowSchema = z.object({
  id: z.string().min(1),
  cluster: z.string().min(1),
  scope: z.object({
    kind: z.enum(values(BreakGlassScope) as unknown as [string, ...string[]]),
    app: z.string().min(1).optional(),
    object: objectRef.optional(),
  }),
  reason: z.string().min(1),
  author: z.string().min(1),
  startedAt: timestamp,
  expiresAt: timestamp,
  endedAt: timestamp.optional(),
  endedBy: z.string().optional(),
  endReason: z.string().optional(),
});

export const signedControlRecordSchema = z.object({
  cluster: z.string().min(1),
  generation: z.number().int().positive(),
  issuedAt: timestamp,
  windows: z.array(breakGlassWindowSchema),
  keyId: z.string(),
  signature: z.string(),
});

function payloadOf(r: ControlRecord): Buffer {
  const { cluster, generation, issuedAt, windows } = r;
  return Buffer.from(canonicalJson({ cluster, generation, issuedAt, windows }));
}

export function signControl(record: ControlRecord, key: SigningKey): SignedControlRecord {
  const signature = sign(null, payloadOf(record), key.privateKey).toString("base64");
  return { ...record, keyId: key.keyId, signature };
}

/** True only when the signature verifies against the given public key. */
export function verifyControl(record: SignedControlRecord, publicKey: KeyObject): boolean {
  if (typeof record.signature !== "string" || record.signature.length === 0) return false;
  try {
    return verify(null, payloadOf(record), publicKey, Buffer.from(record.signature, "base64"));
  } catch {
    return false;
  }
}

export function parseSignedControl(v: unknown): SignedControlRecord {
  const r = signedControlRecordSchema.safeParse(v);
  if (r.success) return r.data as SignedControlRecord;
  const issue = r.error.issues[0];
  const field = issue ? issue.path.join(".") : "";
  throw new FlotillaError(ErrorCode.ReportInvalid, `invalid control record: ${field ? `field "${field}": ` : ""}${issue?.message ?? "malformed"}`, {
    location: { field },
  });
}
