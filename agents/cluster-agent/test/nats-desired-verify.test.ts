import { describe, expect, it } from "vitest";
import { ErrorCode } from "@flotilla/model";
import { encodeJson, generateSigningKey } from "@flotilla/wire";
import { checkBundle, checkPointer, samePointer } from "../src/index.js";
import { makeBundle, signedPointer } from "./nats-helpers.js";

const hub = generateSigningKey();
const ctx = { cluster: "edge-1", publicKey: hub.publicKey };
const rev = "f".repeat(40);
const { digest, bytes, bundle } = makeBundle("edge-1", rev);
const good = signedPointer(hub, "edge-1", rev, digest, 4);

describe("checkPointer", () => {
  const cases: [string, Uint8Array, ErrorCode, string][] = [
    ["not JSON", new TextEncoder().encode("{nope"), ErrorCode.ReportInvalid, "not JSON"],
    ["unsigned", encodeJson({ ...good, signature: "" }), ErrorCode.SignatureInvalid, "unsigned"],
    ["a malformed digest", encodeJson({ ...good, bundleDigest: "md5:1" }), ErrorCode.ReportInvalid, "bundleDigest"],
    ["another cluster", encodeJson(signedPointer(hub, "edge-2", rev, digest, 4)), ErrorCode.SignatureInvalid, '"edge-2"'],
    ["a changed generation", encodeJson({ ...good, generation: 5 }), ErrorCode.SignatureInvalid, "does not verify"],
    ["another key", encodeJson(signedPointer(generateSigningKey(), "edge-1", rev, digest, 4)), ErrorCode.SignatureInvalid, `trusts key ${hub.keyId}`],
  ];
  it.each(cases)("refuses %s", (_what, value, code, text) => {
    const r = checkPointer(value, ctx);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.refusal.error).toMatchObject({ code, message: expect.stringContaining(text) });
  });

  it("accepts the hub's pointer for this cluster", () => {
    expect(checkPointer(encodeJson(good), ctx)).toEqual({ ok: true, value: good });
  });
});

describe("checkBundle", () => {
  it("accepts bytes matching the digest and the pointer", () => {
    expect(checkBundle(good, bytes, ctx)).toEqual({ ok: true, value: bundle });
  });

  it("refuses other bytes, and a bundle for another revision", () => {
    const other = makeBundle("edge-1", rev, 2);
    const r1 = checkBundle(good, other.bytes, ctx);
    expect(!r1.ok && r1.refusal.error.code).toBe(ErrorCode.DigestMismatch);
    const older = makeBundle("edge-1", "e".repeat(40));
    const r2 = checkBundle(signedPointer(hub, "edge-1", rev, older.digest, 4), older.bytes, ctx);
    expect(!r2.ok && r2.refusal.error.message).toContain("e".repeat(40));
  });
});

describe("samePointer", () => {
  it("matches only the same signed statement", () => {
    expect(samePointer(good, { ...good })).toBe(true);
    expect(samePointer(good, signedPointer(hub, "edge-1", rev, digest, 5))).toBe(false);
    expect(samePointer(good, undefined)).toBe(false);
  });
});
