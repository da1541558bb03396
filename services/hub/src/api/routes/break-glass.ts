// Break-glass: open a window (POST), end it early (DELETE), list the active ones and the audit
// trail. Who: the authenticated token's subject, always. A header or body field naming someone
// else is refused outright: an audit trail that records what the caller claims is no audit trail.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { BreakGlassScope, ErrorCode, FlotillaError, values, type BreakGlassScopeSpec, type BreakGlassWindow, type ObjectRef } from "@flotilla/model";
import { listActiveBreakGlass, listBreakGlassAudit, type BreakGlassAuditEntry } from "@flotilla/store";
import type { ApiContext } from "../context.js";
import { principalOf, Role } from "../principal.js";
import { MAX_BREAK_GLASS_TTL_SECONDS, type BreakGlassChange, type BreakGlassOperations } from "../break-glass-operations.js";
import { badRequest, clusterName, NO_QUERY, optionalClusterName, optionalInteger, queryString } from "../query-params.js";
import { breakGlassEndBody, breakGlassStartBody, MAX_BREAK_GLASS_TEXT } from "./break-glass-bodies.js";

export const ACTOR_HEADER = "x-flotilla-actor";
export const BREAK_GLASS_AUDIT_LIMIT = { min: 1, max: 1000, fallback: 100 } as const;
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

type Body = Record<string, unknown>;

function bodyOf(request: FastifyRequest, required: boolean): Body {
  const b = request.body;
  if (b === undefined || b === null) {
    if (required) throw badRequest("body", "send a JSON object (content-type application/json)");
    return {};
  }
  if (typeof b !== "object" || Array.isArray(b)) throw badRequest("body", "must be a JSON object");
  return b as Body;
}

function onlyKnownFields(body: Body, known: readonly string[], prefix = ""): void {
  for (const key of Object.keys(body)) {
    if (!known.includes(key)) throw badRequest(`${prefix}${key}`, `unknown field; accepted: ${known.join(", ")}`);
  }
}

function text(value: unknown, field: string, { required }: { required: boolean }): string | undefined {
  if (value === undefined && !required) return undefined;
  if (typeof value !== "string" || value.trim().length === 0) throw badRequest(field, "required: a non-empty string");
  if (value.length > MAX_BREAK_GLASS_TEXT) throw badRequest(field, `at most ${MAX_BREAK_GLASS_TEXT} characters`);
  return value.trim();
}

/**
 * The actor: the token's subject. The `x-flotilla-actor` header and an `author` field were how
 * callers named themselves before the API had authentication; both are refused with a pointer.
 */
function actorOf(request: FastifyRequest, body: Body): string {
  if (request.headers[ACTOR_HEADER] !== undefined) {
    throw badRequest(ACTOR_HEADER, "is no longer accepted: the actor is the subject of your API token; drop the header");
  }
  if (body.author !== undefined) throw badRequest("author", "is no longer accepted: the actor is the subject of your API token; drop the field");
  return principalOf(request).subject;
}

function scopeOf(value: unknown): BreakGlassScopeSpec {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw badRequest("scope", `required: { "kind": ${values(BreakGlassScope).map((k) => `"${k}"`).join(" | ")}, "app"?, "object"? }`);
  }
  const s = value as Body;
  onlyKnownFields(s, ["kind", "app", "object"], "scope.");
  const kind = s.kind;
  switch (kind) {
    case BreakGlassScope.Cluster:
      if (s.app !== undefined || s.object !== undefined) throw badRequest("scope", `a "cluster" scope covers everything: give no "app" or "object"`);
      return { kind };
    case BreakGlassScope.App:
      if (s.object !== undefined) throw badRequest("scope.object", `an "app" scope covers the whole app: use kind "object" for one object`);
      return { kind, app: text(s.app, "scope.app", { required: true })! };
    case BreakGlassScope.Object: {
      const app = text(s.app, "scope.app", { required: false });
      return { kind, object: objectRefOf(s.object), ...(app !== undefined ? { app } : {}) };
    }
    default:
      throw badRequest("scope.kind", `"${String(kind)}" is not one of ${values(BreakGlassScope).join(", ")}`);
  }
}

function objectRefOf(value: unknown): ObjectRef {
  const hint = `required: { "group" ("" for core), "kind", "namespace" ("" when cluster-scoped), "name" }`;
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw badRequest("scope.object", hint);
  const o = value as Body;
  onlyKnownFields(o, ["group", "kind", "namespace", "name"], "scope.object.");
  const str = (field: string, allowEmpty: boolean): string => {
    const v = o[field];
    if (typeof v !== "string" || (!allowEmpty && v.length === 0)) throw badRequest(`scope.object.${field}`, hint);
    return v;
  };
  return { group: str("group", true), kind: str("kind", false), namespace: str("namespace", true), name: str("name", false) };
}

/** Exactly one of `expiresAt` (ISO-8601, in the future) and `ttlSeconds`, at most a day ahead. */
function expiryOf(body: Body, now: Date): Date {
  const { expiresAt, ttlSeconds } = body;
  if ((expiresAt === undefined) === (ttlSeconds === undefined)) {
    throw badRequest("expiresAt", `give exactly one of "expiresAt" (ISO-8601) and "ttlSeconds" (1 to ${MAX_BREAK_GLASS_TTL_SECONDS})`);
  }
  if (ttlSeconds !== undefined) {
    if (typeof ttlSeconds !== "number" || !Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > MAX_BREAK_GLASS_TTL_SECONDS) {
      throw badRequest("ttlSeconds", `${JSON.stringify(ttlSeconds)} must be an integer from 1 to ${MAX_BREAK_GLASS_TTL_SECONDS} (24 h)`);
    }
    return new Date(now.getTime() + ttlSeconds * 1000);
  }
  const ms = typeof expiresAt === "string" && ISO_8601.test(expiresAt) ? Date.parse(expiresAt) : NaN;
  if (Number.isNaN(ms)) throw badRequest("expiresAt", `${JSON.stringify(expiresAt)} is not an ISO-8601 timestamp with a zone, such as 2026-11-26T12:00:00Z`);
  if (ms <= now.getTime()) throw badRequest("expiresAt", `${String(expiresAt)} is not in the future (hub time ${now.toISOString()})`);
  if (ms > now.getTime() + MAX_BREAK_GLASS_TTL_SECONDS * 1000) {
    throw badRequest("expiresAt", `${String(expiresAt)} is more than 24 h ahead (hub time ${now.toISOString()}); break-glass windows are short by design`);
  }
  return new Date(ms);
}

/** An optional body: fastify would validate a missing one as `null`, which is not an object. */
async function noBodyIsEmpty(request: FastifyRequest): Promise<void> {
  if (request.body === undefined) request.body = {};
}

const LIST_QUERY = queryString({ cluster: "only this cluster" });
const AUDIT_QUERY = queryString({ cluster: "only this cluster", limit: "how many, newest first (1 to 1000, default 100)" });

export function breakGlassRoutes(app: FastifyInstance, { db, clock }: ApiContext, ops: BreakGlassOperations): void {
  app.post<{ Params: { name: string } }>("/v1/clusters/:name/break-glass", { schema: { body: breakGlassStartBody, querystring: NO_QUERY }, config: { role: Role.Operator } }, async (request, reply): Promise<BreakGlassChange> => {
    const cluster = clusterName(request.params.name, "name");
    const body = bodyOf(request, true);
    const author = actorOf(request, body);
    onlyKnownFields(body, ["scope", "reason", "expiresAt", "ttlSeconds"]);
    const scope = scopeOf(body.scope);
    const reason = text(body.reason, "reason", { required: true })!;
    const expiresAt = expiryOf(body, clock());
    const window = await ops.start(cluster, { scope, reason, author, expiresAt });
    return reply.code(201).send(window);
  });

  app.delete<{ Params: { name: string; id: string } }>("/v1/clusters/:name/break-glass/:id", { schema: { body: breakGlassEndBody, querystring: NO_QUERY }, config: { role: Role.Operator }, preValidation: noBodyIsEmpty }, async (request): Promise<BreakGlassChange> => {
    const cluster = clusterName(request.params.name, "name");
    const body = bodyOf(request, false);
    const actor = actorOf(request, body);
    onlyKnownFields(body, ["reason"]);
    const reason = text(body.reason, "reason", { required: false });
    return ops.end(cluster, request.params.id, { actor, ...(reason !== undefined ? { reason } : {}) });
  });

  app.get<{ Params: { name: string } }>("/v1/clusters/:name/break-glass", { schema: { querystring: NO_QUERY } }, async (request): Promise<BreakGlassWindow[]> => {
    const cluster = clusterName(request.params.name, "name");
    const known = await db.selectFrom("clusters").select("name").where("name", "=", cluster).where("retired_at", "is", null).executeTakeFirst();
    if (!known) throw new FlotillaError(ErrorCode.NotFound, `cluster "${cluster}" is not in the fleet`, { location: { field: "name" } });
    return listActiveBreakGlass(db, { cluster, now: clock() });
  });

  app.get("/v1/break-glass", { schema: { querystring: LIST_QUERY } }, async (request): Promise<BreakGlassWindow[]> => {
    const query = request.query as Record<string, unknown>;
    const cluster = optionalClusterName(query, "cluster");
    return listActiveBreakGlass(db, { ...(cluster ? { cluster } : {}), now: clock() });
  });

  app.get("/v1/break-glass/audit", { schema: { querystring: AUDIT_QUERY } }, async (request): Promise<BreakGlassAuditEntry[]> => {
    const query = request.query as Record<string, unknown>;
    const cluster = optionalClusterName(query, "cluster");
    const limit = optionalInteger(query, "limit", BREAK_GLASS_AUDIT_LIMIT);
    return listBreakGlassAudit(db, { ...(cluster ? { cluster } : {}), limit });
  });
}
