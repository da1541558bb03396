// Optional bearer-token authentication for the fleet API. Probes stay open (the orchestrator
// calls them without credentials). Checked in onRequest, before anything else runs, so a request
// without a valid token costs no database work.
import { createHash, timingSafeEqual } from "node:crypto";
import type { FastifyInstance } from "fastify";
import { ErrorCode, FlotillaError } from "@flotilla/model";

export interface ApiAuth {
  /** Accepted bearer tokens (several, so a token can be rotated without downtime). */
  tokens: readonly string[];
}

const OPEN_PATHS = new Set(["/healthz", "/readyz"]);
const MIN_TOKEN_LENGTH = 16;

const digestOf = (token: string): Buffer => createHash("sha256").update(token).digest();

export function installBearerAuth(app: FastifyInstance, auth: ApiAuth): void {
  if (auth.tokens.length === 0 || auth.tokens.some((t) => t.length < MIN_TOKEN_LENGTH)) {
    throw new FlotillaError(ErrorCode.ConfigInvalid, `API tokens: give at least one, each at least ${MIN_TOKEN_LENGTH} characters long`, {
      location: { field: "tokens" },
    });
  }
  // Compare digests in constant time: equal lengths, and no early exit on the first wrong byte.
  const accepted = auth.tokens.map(digestOf);
  app.addHook("onRequest", async (request) => {
    if (OPEN_PATHS.has(request.url.split("?")[0] ?? "")) return;
    const header = request.headers.authorization;
    const token = header && /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1];
    if (!token) {
      throw new FlotillaError(ErrorCode.Unauthorized, "this API needs a token: send Authorization: Bearer <token>");
    }
    const digest = digestOf(token);
    if (!accepted.some((a) => timingSafeEqual(a, digest))) {
      throw new FlotillaError(ErrorCode.Unauthorized, "the bearer token is not one this hub accepts");
    }
  });
}
