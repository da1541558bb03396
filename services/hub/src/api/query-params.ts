// Query-string validation: a bad value is a 400 naming the field and what it accepts.
import { ErrorCode, FlotillaError } from "@flotilla/model";
import { CLUSTER_NAME } from "@flotilla/wire";

type Query = Record<string, unknown>;

export function badRequest(field: string, message: string): FlotillaError {
  return new FlotillaError(ErrorCode.BadRequest, `${field}: ${message}`, { location: { field } });
}

/** A route's query string as a JSON schema: fastify checks each is given once (a string), the
 * OpenAPI document lists them with their descriptions, and query-check.ts refuses the rest. The
 * route's own parsing then says precisely what a bad value should look like. */
export interface QuerySchema {
  type: "object";
  properties: Record<string, { type: "string"; description: string }>;
  /** true only in ANY_QUERY: the route ignores its query string on purpose. */
  additionalProperties?: true;
}

export function queryString(params: Record<string, string>): QuerySchema {
  return { type: "object", properties: Object.fromEntries(Object.entries(params).map(([name, description]) => [name, { type: "string", description }])) };
}

/** The query string of a route that takes none: any parameter is refused (query-check.ts). */
export const NO_QUERY: QuerySchema = queryString({});

/** The query string of a route that ignores it by design: the dashboard's static files, which a
 * browser or a link may decorate (`?v=2`, `?utm_source=`) and which hold no data to filter. */
export const ANY_QUERY: QuerySchema = { type: "object", properties: {}, additionalProperties: true };

function single(query: Query, field: string): string | undefined {
  const v = query[field];
  if (v === undefined) return undefined;
  if (typeof v !== "string") throw badRequest(field, "give it once");
  return v;
}

export function clusterName(value: unknown, field: string): string {
  if (typeof value !== "string" || !CLUSTER_NAME.test(value)) {
    throw badRequest(field, `"${String(value)}" is not a cluster name (lowercase letters, digits and '-', at most 63)`);
  }
  return value;
}

export function optionalClusterName(query: Query, field: string): string | undefined {
  const v = single(query, field);
  return v === undefined ? undefined : clusterName(v, field);
}

// Dates with a time and an explicit zone (or a bare date, read as UTC midnight).
const ISO_8601 = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2}))?$/;

export function optionalTimestamp(query: Query, field: string): Date | undefined {
  const v = single(query, field);
  if (v === undefined) return undefined;
  const ms = ISO_8601.test(v) ? Date.parse(v) : NaN;
  if (Number.isNaN(ms)) throw badRequest(field, `"${v}" is not an ISO-8601 timestamp such as 2026-11-26T09:00:00Z`);
  return new Date(ms);
}

export function optionalInteger(query: Query, field: string, { min, max, fallback }: { min: number; max: number; fallback: number }): number {
  const v = single(query, field);
  if (v === undefined) return fallback;
  const n = /^\d+$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) throw badRequest(field, `"${v}" must be an integer from ${min} to ${max}`);
  return n;
}
