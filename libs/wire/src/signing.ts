// ed25519 signatures over desired pointers. The hub signs; agents verify with the hub's public key.
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, createHash, type KeyObject } from "node:crypto";
import type { DesiredPointer, SignedPointer } from "@flotilla/model";
import { canonicalJson } from "./canonical.js";

export interface SigningKey {
  privateKey: KeyObject;
  publicKey: KeyObject;
  keyId: string;
}

export function keyIdOf(publicKey: KeyObject): string {
  const der = publicKey.export({ type: "spki", format: "der" });
  return createHash("sha256").update(der).digest("hex").slice(0, 16);
}

export function generateSigningKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  return { privateKey, publicKey, keyId: keyIdOf(publicKey) };
}

export function signingKeyFromPem(privatePem: string): SigningKey {
  const privateKey = createPrivateKey(privatePem);
  const publicKey = createPublicKey(privateKey);
  return { privateKey, publicKey, keyId: keyIdOf(publicKey) };
}

export function publicKeyFromPem(pem: string): KeyObject {
  return createPublicKey(pem);
}

export const privateKeyPem = (k: SigningKey): string => k.privateKey.export({ type: "pkcs8", format: "pem" }).toString();
export const publicKeyPem = (k: KeyObject): string => k.export({ type: "spki", format: "pem" }).toString();

function payloadOf(p: DesiredPointer): Buffer {
  const { cluster, revision, bundleDigest, generation, issuedAt, commit, trace } = p;
  return Buffer.from(canonicalJson({ cluster, revision, bundleDigest, generation, issuedAt, commit, trace }));
}

/** base64 ed25519 signature of a payload (everything the hub signs goes through here). */
export function signPayload(payload: Buffer, key: SigningKey): string {
  return sign(null, payload, key.privateKey).toString("base64");
}

/** True only when `signature` is a non-empty base64 ed25519 signature of `payload` by `publicKey`. */
export function verifyPayload(payload: Buffer, signature: unknown, publicKey: KeyObject): boolean {
  if (typeof signature !== "string" || signature.length === 0) return false;
  try {
    return verify(null, payload, publicKey, Buffer.from(signature, "base64"));
  } catch {
    return false;
  }
}

export function signPointer(pointer: DesiredPointer, key: SigningKey): SignedPointer {
  return { ...pointer, keyId: key.keyId, signature: signPayload(payloadOf(pointer), key) };
}

/** True only when the signature verifies against the given public key. */
export function verifyPointer(pointer: SignedPointer, publicKey: KeyObject): boolean {
  return verifyPayload(payloadOf(pointer), pointer.signature, publicKey);
}
