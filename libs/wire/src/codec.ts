// Bytes ⇄ values for NATS payloads.
const enc = new TextEncoder();
const dec = new TextDecoder();

export const encodeJson = (v: unknown): Uint8Array => enc.encode(JSON.stringify(v));

/** Parses JSON bytes; returns an Error (not throws) so callers keep failures as state. */
export function decodeJson(bytes: Uint8Array): unknown | Error {
  try {
    return JSON.parse(dec.decode(bytes));
  } catch (err) {
    return err instanceof Error ? err : new Error(String(err));
  }
}
