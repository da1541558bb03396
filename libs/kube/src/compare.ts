// Comparing a server-side dry-run result with the live object: the basis of "unchanged" (and of
// zero writes for an unchanged bundle). Both sides went through the server's defaulting, so a
// plain comparison after dropping bookkeeping is exact. Pure.
import type { DriftPath, KubeObject } from "@flotilla/model";
import { isObject, joinPointer, jsonEqual, type JsonObject } from "./json.js";
import { managedFieldsOf } from "./managed-fields.js";
import { maskDriftPaths } from "./mask.js";

const comparedMetadata = ["labels", "annotations", "finalizers", "ownerReferences"];

/** The object without status and with only the metadata a manifest can set. */
export function comparable(o: KubeObject): JsonObject {
  const { status: _status, metadata, ...rest } = o;
  const meta: JsonObject = {};
  for (const k of comparedMetadata) if (metadata[k] !== undefined) meta[k] = metadata[k];
  return { ...rest, metadata: meta };
}

/** Fields owned by `fieldManager` through apply, by subresource-less entry. */
function appliedFieldsOf(o: KubeObject, fieldManager: string): unknown[] {
  return managedFieldsOf(o)
    .filter((e) => e.manager === fieldManager && e.operation === "Apply" && e.subresource === undefined)
    .map((e) => e.fieldsV1);
}

/** True when applying would change nothing: same content and our manager already owns exactly
 * the fields it would own. */
export function sameLiveState(dryRun: KubeObject, live: KubeObject, fieldManager: string): boolean {
  return jsonEqual(comparable(dryRun), comparable(live)) && jsonEqual(appliedFieldsOf(dryRun, fieldManager), appliedFieldsOf(live, fieldManager));
}

/** Fields that differ between the object after apply (`desired`) and before (`live`), masked. */
export function changedPaths(after: KubeObject, before: KubeObject): DriftPath[] {
  const out: DriftPath[] = [];
  diffValues(comparable(after), comparable(before), "", out);
  return maskDriftPaths(after, out);
}

function diffValues(a: unknown, b: unknown, path: string, out: DriftPath[]): void {
  if (jsonEqual(a, b)) return;
  if (isObject(a) && isObject(b)) {
    for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) diffValues(a[k], b[k], joinPointer(path, k), out);
    return;
  }
  if (Array.isArray(a) && Array.isArray(b) && a.length === b.length) {
    a.forEach((x, i) => diffValues(x, b[i], joinPointer(path, i), out));
    return;
  }
  out.push({ path: path || "/", desired: a, live: b });
}
