// Secret values never leave the agent: every diff, message and report masks them.
import type { DriftPath, KubeObject } from "@flotilla/model";
import { groupOf } from "@flotilla/model";
import { isObject, pointerSegments } from "./json.js";

export const MASK = "*** (masked)";

const secretFields = new Set(["data", "stringData"]);

export function isSecret(o: Pick<KubeObject, "apiVersion" | "kind">): boolean {
  return o.kind === "Secret" && groupOf(o.apiVersion) === "";
}

/** True when a JSON pointer of a Secret addresses its values. */
export function isSecretValuePath(pointer: string): boolean {
  const first = pointerSegments(pointer)[0];
  return first !== undefined && secretFields.has(first);
}

function maskValue(v: unknown): unknown {
  if (v === undefined) return undefined;
  if (isObject(v)) return Object.fromEntries(Object.keys(v).map((k) => [k, MASK]));
  return MASK;
}

/** Masks desired and live values of drift paths that address a Secret's values. */
export function maskDriftPaths(o: Pick<KubeObject, "apiVersion" | "kind">, paths: DriftPath[]): DriftPath[] {
  if (!isSecret(o)) return paths;
  return paths.map((p) => (isSecretValuePath(p.path) ? { path: p.path, desired: maskValue(p.desired), live: maskValue(p.live) } : p));
}

/** A copy of the object with Secret values replaced (other kinds are returned unchanged). */
export function maskObject<T extends KubeObject>(o: T): T {
  if (!isSecret(o)) return o;
  const copy: KubeObject = { ...o };
  for (const f of secretFields) if (isObject(o[f])) copy[f] = maskValue(o[f]);
  return copy as T;
}

/** Removes any Secret value (plain or base64) of the given objects from a text, e.g. an API
 * server message that echoes a field value. */
export function maskSecretText(text: string, ...objects: (KubeObject | undefined)[]): string {
  const values = new Set<string>();
  for (const o of objects) {
    if (!o || !isSecret(o)) continue;
    for (const f of secretFields) {
      const m = o[f];
      if (!isObject(m)) continue;
      for (const v of Object.values(m)) {
        if (typeof v !== "string" || v.length < 4) continue;
        values.add(v);
        const decoded = f === "data" ? Buffer.from(v, "base64").toString("utf8") : Buffer.from(v, "utf8").toString("base64");
        if (decoded.length >= 4) values.add(decoded);
      }
    }
  }
  let out = text;
  // Longest first so a value containing another is masked whole.
  for (const v of [...values].sort((a, b) => b.length - a.length)) out = out.split(v).join(MASK);
  return out;
}
