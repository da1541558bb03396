// The break-glass request bodies as JSON schemas: fastify refuses a wrong type, a missing or an
// unknown field before the route runs (a 400 naming the field, error-handler.ts says what to send),
// and /openapi.json documents them. What a schema cannot say — a scope's kind deciding which of
// `app`/`object` it takes, exactly one of `expiresAt`/`ttlSeconds`, an expiry in the future by the
// hub's clock — the route checks itself (break-glass.ts).
import { BreakGlassScope, values } from "@flotilla/model";
import { MAX_BREAK_GLASS_TTL_SECONDS } from "../break-glass-operations.js";

export const MAX_BREAK_GLASS_TEXT = 1000;

/** `author` named the actor before the API had tokens; it is refused with this pointer. */
const noAuthor = {
  not: {},
  deprecated: true,
  description: "no longer accepted: the actor is the subject of your API token; drop the field",
} as const;

const text = (description: string) => ({ type: "string", minLength: 1, maxLength: MAX_BREAK_GLASS_TEXT, description }) as const;

const objectRef = {
  type: "object",
  required: ["group", "kind", "namespace", "name"],
  additionalProperties: false,
  description: "the one object the window covers",
  properties: {
    group: { type: "string", maxLength: 253, description: `API group ("" for core)` },
    kind: { type: "string", minLength: 1, maxLength: 253 },
    namespace: { type: "string", maxLength: 253, description: `"" when cluster-scoped` },
    name: { type: "string", minLength: 1, maxLength: 253 },
  },
} as const;

const scope = {
  type: "object",
  required: ["kind"],
  additionalProperties: false,
  description: `what drift the window tolerates: "cluster" (everything), "app" (give "app") or "object" (give "object", optionally "app")`,
  properties: {
    kind: { type: "string", enum: values(BreakGlassScope) },
    app: text("the app, for kind app (or to narrow kind object)"),
    object: objectRef,
  },
} as const;

export const breakGlassStartBody = {
  type: "object",
  required: ["scope", "reason"],
  additionalProperties: false,
  description: `Give exactly one of "expiresAt" and "ttlSeconds".`,
  properties: {
    scope,
    reason: text("why enforcement is suspended (an incident id, a ticket), kept in the audit trail"),
    expiresAt: {
      type: "string",
      pattern: "^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}(:\\d{2}(\\.\\d+)?)?(Z|[+-]\\d{2}:?\\d{2})$",
      description: "an ISO-8601 timestamp with a zone, such as 2026-11-26T12:00:00Z, in the future and at most 24 h ahead",
    },
    ttlSeconds: { type: "integer", minimum: 1, maximum: MAX_BREAK_GLASS_TTL_SECONDS, description: "seconds from now until the window ends (at most 24 h)" },
    author: noAuthor,
  },
} as const;

/** DELETE …/break-glass/:id: no body is the same as `{}`. */
export const breakGlassEndBody = {
  type: "object",
  additionalProperties: false,
  properties: {
    reason: text("why the window ends early, kept in the audit trail"),
    author: noAuthor,
  },
} as const;
