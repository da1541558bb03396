// Results of Kubernetes API calls: API errors are data, never exceptions.
import { describeRef, type ObjectRef } from "@flotilla/model";
import { isObject } from "./json.js";

export interface ApiFailure {
  /** HTTP status; 0 when the API server could not be reached. */
  status: number;
  /** Kubernetes reason (`Forbidden`, `Invalid`, `NotFound`, `Conflict`, `AlreadyExists`…), or
   * `Unreachable` / `UnknownKind` for failures before or outside the API server. */
  reason: string;
  /** Names kind, namespace and name, then the API server's message. */
  message: string;
  /** Field-level causes from the API server's Status (Invalid errors). */
  causes?: { field?: string; reason?: string; message?: string }[];
  /** The Status `details.kind` (e.g. `namespaces` for a missing namespace). */
  detailsKind?: string;
  detailsName?: string;
}

export type KubeResult<T> = { ok: true; value: T } | { ok: false; failure: ApiFailure };

export const ok = <T>(value: T): KubeResult<T> => ({ ok: true, value });
export const fail = <T>(failure: ApiFailure): KubeResult<T> => ({ ok: false, failure });

/** Builds a failure from an HTTP response body (a Kubernetes Status when the server wrote one). */
export function failureFrom(status: number, body: unknown, subject?: ObjectRef | string): ApiFailure {
  const prefix = subject === undefined ? "" : `${typeof subject === "string" ? subject : describeRef(subject)}: `;
  if (isObject(body) && body["kind"] === "Status") {
    const details = isObject(body["details"]) ? body["details"] : {};
    const causes = Array.isArray(details["causes"]) ? details["causes"].filter(isObject) : [];
    return {
      status,
      reason: typeof body["reason"] === "string" && body["reason"] !== "" ? body["reason"] : reasonOfStatus(status),
      message: prefix + (typeof body["message"] === "string" ? body["message"] : `HTTP ${status}`),
      ...(causes.length ? { causes: causes.map((c) => ({ field: c["field"] as string, reason: c["reason"] as string, message: c["message"] as string })) } : {}),
      ...(typeof details["kind"] === "string" ? { detailsKind: details["kind"] } : {}),
      ...(typeof details["name"] === "string" ? { detailsName: details["name"] } : {}),
    };
  }
  const text = typeof body === "string" ? body.slice(0, 500) : "";
  return { status, reason: reasonOfStatus(status), message: `${prefix}HTTP ${status}${text ? `: ${text}` : ""}` };
}

export function unreachable(err: unknown, subject?: ObjectRef | string): ApiFailure {
  const prefix = subject === undefined ? "" : `${typeof subject === "string" ? subject : describeRef(subject)}: `;
  return { status: 0, reason: "Unreachable", message: `${prefix}API server unreachable: ${err instanceof Error ? err.message : String(err)}` };
}

function reasonOfStatus(status: number): string {
  switch (status) {
    case 400: return "BadRequest";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "NotFound";
    case 405: return "MethodNotAllowed";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 422: return "Invalid";
    case 429: return "TooManyRequests";
    default: return status >= 500 ? "InternalError" : "Unknown";
  }
}
