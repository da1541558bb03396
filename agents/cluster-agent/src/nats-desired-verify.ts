// The trust checks on what arrives from NATS (and from the local cache, which is re-checked on
// load): a desired pointer must be signed by the hub for this cluster, and a bundle's bytes must
// hash to the pointer's digest. Pure functions; failures are Refusals, never exceptions.
import type { KeyObject } from "node:crypto";
import { ErrorCode, toErrorInfo, type Bundle, type SignedPointer } from "@flotilla/model";
import { decodeJson, keyIdOf, parseBundle, parseSignedPointer, sha256Digest, verifyPointer } from "@flotilla/wire";
import type { Refusal } from "./ports.js";

export interface TrustContext {
  /** The cluster this agent serves; pointers and bundles for any other cluster are refused. */
  cluster: string;
  /** The hub's ed25519 public key. */
  publicKey: KeyObject;
}

export type TrustCheck<T> = { ok: true; value: T } | { ok: false; refusal: Refusal };

const refuse = (code: ErrorCode, message: string, pointer?: Partial<SignedPointer>): { ok: false; refusal: Refusal } => ({
  ok: false,
  refusal: { ...(pointer ? { pointer } : {}), error: { code, message } },
});

/** The pointer fields worth echoing in a refusal (never the whole untrusted blob). */
function pointerSummary(raw: unknown): Partial<SignedPointer> | undefined {
  if (raw === null || typeof raw !== "object") return undefined;
  const r = raw as Record<string, unknown>;
  const out: Partial<SignedPointer> = {};
  if (typeof r.cluster === "string") out.cluster = r.cluster;
  if (typeof r.revision === "string") out.revision = r.revision;
  if (typeof r.bundleDigest === "string") out.bundleDigest = r.bundleDigest;
  if (typeof r.generation === "number") out.generation = r.generation;
  if (typeof r.keyId === "string") out.keyId = r.keyId;
  return out;
}

/** Parses and authenticates a desired pointer (the KV value or the cached copy). */
export function checkPointer(bytes: Uint8Array, ctx: TrustContext): TrustCheck<SignedPointer> {
  const raw = decodeJson(bytes);
  if (raw instanceof Error) return refuse(ErrorCode.ReportInvalid, `desired pointer of cluster "${ctx.cluster}" is not JSON: ${raw.message}`);
  const summary = pointerSummary(raw);
  const signature = (raw as { signature?: unknown } | null)?.signature;
  if (typeof signature !== "string" || signature.length === 0) {
    return refuse(ErrorCode.SignatureInvalid, `desired pointer of cluster "${ctx.cluster}" is unsigned; only pointers signed by the hub are applied`, summary);
  }
  let pointer: SignedPointer;
  try {
    pointer = parseSignedPointer(raw);
  } catch (err) {
    return { ok: false, refusal: { ...(summary ? { pointer: summary } : {}), error: toErrorInfo(err, ErrorCode.ReportInvalid) } };
  }
  if (pointer.cluster !== ctx.cluster) {
    return refuse(
      ErrorCode.SignatureInvalid,
      `desired pointer is signed for cluster "${pointer.cluster}", not "${ctx.cluster}"; the hub signs one pointer per cluster`,
      summary,
    );
  }
  if (!verifyPointer(pointer, ctx.publicKey)) {
    const trusted = keyIdOf(ctx.publicKey);
    const which = pointer.keyId === trusted ? "" : ` (pointer names key ${pointer.keyId}, the agent trusts key ${trusted})`;
    return refuse(
      ErrorCode.SignatureInvalid,
      `signature of the desired pointer for cluster "${ctx.cluster}" generation ${pointer.generation} does not verify with the hub key${which}`,
      summary,
    );
  }
  return { ok: true, value: pointer };
}

/** Checks bundle bytes against an authenticated pointer: digest first, then content. */
export function checkBundle(pointer: SignedPointer, bytes: Uint8Array, ctx: TrustContext): TrustCheck<Bundle> {
  const summary = pointerSummary(pointer);
  const digest = sha256Digest(bytes);
  if (digest !== pointer.bundleDigest) {
    return refuse(
      ErrorCode.DigestMismatch,
      `bundle for cluster "${ctx.cluster}" generation ${pointer.generation} hashes to ${digest}, the signed pointer says ${pointer.bundleDigest}`,
      summary,
    );
  }
  let bundle: Bundle;
  try {
    const raw = decodeJson(bytes);
    if (raw instanceof Error) throw raw;
    bundle = parseBundle(raw);
  } catch (err) {
    return { ok: false, refusal: { ...(summary ? { pointer: summary } : {}), error: toErrorInfo(err, ErrorCode.ReportInvalid) } };
  }
  if (bundle.cluster !== pointer.cluster || bundle.revision !== pointer.revision) {
    return refuse(
      ErrorCode.DigestMismatch,
      `bundle ${pointer.bundleDigest} is for cluster "${bundle.cluster}" revision ${bundle.revision}, the signed pointer names cluster "${pointer.cluster}" revision ${pointer.revision}`,
      summary,
    );
  }
  return { ok: true, value: bundle };
}

/** Two pointers are the same statement when every signed field and the signature agree. */
export function samePointer(a: SignedPointer | undefined, b: SignedPointer | undefined): boolean {
  return !!a && !!b && a.generation === b.generation && a.bundleDigest === b.bundleDigest && a.signature === b.signature;
}
