// Break-glass control records: signed by the hub with the same ed25519 key as desired pointers.
// Agents trust only a hub-signed record — otherwise anyone who can write the KV bucket could
// silence drift enforcement.
import type { KeyObject } from "node:crypto";
import { z } from "zod";
import { BreakGlassScope, values, type ControlRecord, type SignedControlRecord } from "@flotilla/model";
import { canonicalJson } from "./canonical.js";
import { parseWith } from "./schemas.js";
import { signPayload, verifyPayload, type SigningKey } from "./signing.js";

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
  return { ...record, keyId: key.keyId, signature: signPayload(payloadOf(record), key) };
}

/** True only when the signature verifies against the given public key. */
export function verifyControl(record: SignedControlRecord, publicKey: KeyObject): boolean {
  return verifyPayload(payloadOf(record), record.signature, publicKey);
}

export const parseSignedControl = (v: unknown): SignedControlRecord => parseWith<SignedControlRecord>(signedControlRecordSchema, "control record", v);
