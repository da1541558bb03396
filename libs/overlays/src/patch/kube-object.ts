// The shape of a Kubernetes object as the patch engine sees it, and plain-JSON helpers.
import type { KubeObject } from "@flotilla/model";

export type { KubeObject };

export type JsonMap = Record<string, unknown>;

export function isMap(v: unknown): v is JsonMap {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Sets a key as an own property. A plain assignment of `__proto__` (a legal YAML key) would change
 * the object's prototype instead and lose the key.
 */
export function setKey(m: JsonMap, key: string, value: unknown): void {
  if (key === "__proto__") Object.defineProperty(m, key, { value, writable: true, enumerable: true, configurable: true });
  else m[key] = value;
}

/** Deep copy of plain JSON data (what parsed YAML is). */
export function cloneJson<T>(v: T): T {
  if (Array.isArray(v)) return v.map(cloneJson) as T;
  if (isMap(v)) {
    const out: JsonMap = {};
    for (const [k, x] of Object.entries(v)) setKey(out, k, cloneJson(x));
    return out as T;
  }
  return v;
}

/** Structural equality of plain JSON data; key order does not matter. */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) {
    return Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  }
  if (isMap(a) && isMap(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]));
  }
  return false;
}
