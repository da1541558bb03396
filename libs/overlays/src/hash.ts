// The content hash kustomize appends to generated ConfigMap/Secret names. It must match kustomize
// byte for byte, so the encoding copies Go's encoding/json: sorted keys, HTML-escaped strings.
// (kustomize looks up the name under the literal key "metadata/name", which never exists, so the
// name always encodes as "" and the hash depends on content only.)
import { createHash } from "node:crypto";
import type { KubeObject } from "@flotilla/model";
import { isPlainObject } from "./yaml-io.js";

export function goJson(v: unknown): string {
  if (v === null || v === undefined) return "null";
  if (Array.isArray(v)) return `[${v.map(goJson).join(",")}]`;
  if (isPlainObject(v)) {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${goString(k)}:${goJson(v[k])}`)
      .join(",")}}`;
  }
  if (typeof v === "string") return goString(v);
  return JSON.stringify(v);
}

function goString(s: string): string {
  return JSON.stringify(s).replace(/[<>&\u2028\u2029]/g, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** kustomize's hash encoding: first 10 hex chars with 0,1,3,a,e swapped to avoid words. */
export function encodeHash(hex: string): string {
  const swap: Record<string, string> = { "0": "g", "1": "h", "3": "k", a: "m", e: "t" };
  return hex
    .slice(0, 10)
    .split("")
    .map((c) => swap[c] ?? c)
    .join("");
}

const mapOr = (v: unknown): unknown => (v === undefined || v === null ? "" : isPlainObject(v) ? v : String(v));

export function contentHash(obj: KubeObject): string {
  let encoded: string;
  if (obj.kind === "ConfigMap") {
    const m: Record<string, unknown> = { kind: "ConfigMap", name: "", data: mapOr(obj.data) };
    if (isPlainObject(obj.binaryData)) m.binaryData = obj.binaryData;
    encoded = goJson(m);
  } else if (obj.kind === "Secret") {
    const m: Record<string, unknown> = { kind: "Secret", type: mapOr(obj.type), name: "", data: mapOr(obj.data) };
    if (isPlainObject(obj.stringData)) m.stringData = obj.stringData;
    encoded = goJson(m);
  } else {
    encoded = goJson(obj);
  }
  return encodeHash(createHash("sha256").update(encoded).digest("hex"));
}
