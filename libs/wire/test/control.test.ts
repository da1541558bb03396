import { describe, expect, it } from "vitest";
import type { ControlRecord } from "@flotilla/model";
import { generateSigningKey, parseSignedControl, signControl, verifyControl } from "../src/index.js";

const hub = generateSigningKey();
const record: ControlRecord = {
  cluster: "prod-1",
  generation: 7,
  issuedAt: "2026-11-26T10:00:00.000Z",
  windows: [
    {
      id: "w1",
      cluster: "prod-1",
      scope: { kind: "object", object: { group: "apps", kind: "Deployment", namespace: "shop", name: "api" } },
      reason: "INC-1",
      author: "ada",
      startedAt: "2026-11-26T10:00:00.000Z",
      expiresAt: "2026-11-26T10:30:00.000Z",
    },
  ],
};

describe("control records", () => {
  it("verify with the hub key only, and survive a JSON round trip with keys in any order", () => {
    const signed = signControl(record, hub);
    expect(signed.keyId).toBe(hub.keyId);
    // Keys in another order than the hub wrote them: the signature covers canonical JSON.
    const { signature, ...rest } = signed;
    const parsed = parseSignedControl(JSON.parse(JSON.stringify({ signature, ...rest })));
    expect(verifyControl(parsed, hub.publicKey)).toBe(true);
    expect(verifyControl(parsed, generateSigningKey().publicKey)).toBe(false);
  });

  it.each([
    ["a longer expiry", (r: ControlRecord) => ({ ...r, windows: [{ ...r.windows[0]!, expiresAt: "2026-11-27T10:00:00.000Z" }] })],
    ["a wider scope", (r: ControlRecord) => ({ ...r, windows: [{ ...r.windows[0]!, scope: { kind: "cluster" as const } }] })],
    ["a higher generation", (r: ControlRecord) => ({ ...r, generation: 8 })],
    ["another cluster", (r: ControlRecord) => ({ ...r, cluster: "dev-1" })],
    ["an extra window", (r: ControlRecord) => ({ ...r, windows: [...r.windows, { ...r.windows[0]!, id: "w2" }] })],
  ])("does not verify after tampering: %s", (_what, tamper) => {
    const signed = signControl(record, hub);
    expect(verifyControl({ ...tamper(signed), keyId: signed.keyId, signature: signed.signature }, hub.publicKey)).toBe(false);
  });

  it("names the bad field", () => {
    const signed = signControl(record, hub);
    expect(() => parseSignedControl({ ...signed, generation: 0 })).toThrow(/field "generation"/);
    expect(() => parseSignedControl({ ...signed, windows: [{ ...signed.windows[0], scope: { kind: "namespace" } }] })).toThrow(/field "windows.0.scope.kind"/);
    expect(() => parseSignedControl({ ...signed, windows: [{ ...signed.windows[0], expiresAt: "soon" }] })).toThrow(/field "windows.0.expiresAt"/);
  });
});
