// Turning API server failures of an apply into Flotilla reasons and clear messages.
import type { KubeObject } from "@flotilla/model";
import { Reason, describeRef, refOf } from "@flotilla/model";
import { maskSecretText } from "./mask.js";
import type { ApiFailure } from "./result.js";

// How the API server words "this field cannot be updated in place": Job templates and selectors
// ("field is immutable"), Service clusterIP ("may not change once set"), PVC specs ("spec is
// immutable after creation"), StatefulSet specs ("updates to statefulset spec for fields other
// than … are forbidden").
const immutablePatterns = [/field is immutable/i, /may not change once set/i, /is immutable/i, /updates to \w+ spec for fields other than .* are forbidden/i];

export function isImmutableFieldFailure(f: ApiFailure): boolean {
  if (f.status !== 422) return false;
  const texts = [f.message, ...(f.causes ?? []).map((c) => c.message ?? "")];
  return texts.some((t) => immutablePatterns.some((p) => p.test(t)));
}

export function isNamespaceMissing(f: ApiFailure): boolean {
  return f.status === 404 && f.detailsKind === "namespaces";
}

export interface ClassifiedFailure {
  reason: Reason;
  message: string;
  failure: ApiFailure;
}

/** Reason and message for a failed apply of `o`; Secret values are masked out of both the
 * message and the failure. */
export function classifyApplyFailure(f: ApiFailure, o: KubeObject): ClassifiedFailure {
  const masked: ApiFailure = {
    ...f,
    message: maskSecretText(f.message, o),
    ...(f.causes ? { causes: f.causes.map((c) => ({ ...c, ...(c.message ? { message: maskSecretText(c.message, o) } : {}) })) } : {}),
  };
  const what = describeRef(refOf(o));
  if (isNamespaceMissing(f)) {
    const ns = f.detailsName ?? o.metadata.namespace ?? "";
    return { reason: Reason.NamespaceMissing, message: `${what}: namespace "${ns}" does not exist; add the Namespace to the bundle or create it first`, failure: masked };
  }
  if (isImmutableFieldFailure(f)) return { reason: Reason.ImmutableField, message: `${what}: an immutable field changed (${masked.message}); the object must be recreated`, failure: masked };
  const reason = reasonOf(f.reason);
  return { reason, message: masked.message.startsWith(what) ? masked.message : `${what}: ${masked.message}`, failure: masked };
}

function reasonOf(kubeReason: string): Reason {
  switch (kubeReason) {
    case "Forbidden": return Reason.Forbidden;
    case "Invalid":
    case "BadRequest": return Reason.Invalid;
    case "NotFound": return Reason.NotFound;
    case "Conflict": return Reason.Conflict;
    case "UnknownKind": return Reason.UnknownKind;
    default: return Reason.ApplyFailed;
  }
}
