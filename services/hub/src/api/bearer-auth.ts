// Authentication and the coarse authorization check for the fleet API, in onRequest, before
// anything else runs: a request without a valid token costs no database work. Every route needs a
// token unless it declares `config: { public: true }` (probes, signed webhooks); the role a route
// declares (principal.ts) is checked here, per-environment promoter rights in the route itself.
//
// Authentication is on by default: buildApi takes either tokens or an explicit `insecureNoAuth`.
import type { FastifyInstance, FastifyRequest } from "fastify";
import { ErrorCode, FlotillaError } from "@flotilla/model";
import { ApiTokenRegistry, type ApiTokenEntry } from "./api-tokens.js";
import { AuthFailures, DEFAULT_AUTH_FAILURE_LIMIT, type AuthFailureLimit } from "./auth-failures.js";
import { hasRole, INSECURE_PRINCIPAL, routeRole } from "./principal.js";

export type ApiAuth =
  | {
      /** The accepted tokens: a registry the hub refreshes when the tokens file changes, or a fixed list. */
      tokens: ApiTokenRegistry | readonly ApiTokenEntry[];
      /** Lockout after repeated bad tokens from one address (default 10 per minute). */
      failureLimit?: AuthFailureLimit;
    }
  | {
      /** Everyone is admin. For local experiments only; logged loudly at start. */
      insecureNoAuth: true;
    };

export const INSECURE_NO_AUTH_WARNING = "API AUTHENTICATION IS DISABLED (--insecure-no-auth): anyone who can reach this port is admin; never run this way outside a laptop";

const bearerToken = (request: FastifyRequest): string | undefined => {
  const header = request.headers.authorization;
  return header ? /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1] : undefined;
};

export function installAuth(app: FastifyInstance, auth: ApiAuth, clock: () => Date): void {
  if ("insecureNoAuth" in auth) {
    app.log.warn(INSECURE_NO_AUTH_WARNING);
    app.addHook("onRequest", async (request) => {
      request.principal = INSECURE_PRINCIPAL;
    });
    return;
  }
  const registry = auth.tokens instanceof ApiTokenRegistry ? auth.tokens : new ApiTokenRegistry(auth.tokens);
  const failures = new AuthFailures(auth.failureLimit ?? DEFAULT_AUTH_FAILURE_LIMIT);

  app.addHook("onRequest", async (request, reply) => {
    if (request.routeOptions.config?.public) return;
    const now = clock();
    const lockedMs = failures.lockedFor(request.ip, now.getTime());
    if (lockedMs > 0) {
      const seconds = Math.ceil(lockedMs / 1000);
      reply.header("retry-after", String(seconds));
      throw new FlotillaError(ErrorCode.RateLimited, `too many bad tokens from ${request.ip}; try again in ${seconds} s`);
    }
    const token = bearerToken(request);
    if (!token) {
      throw new FlotillaError(ErrorCode.Unauthorized, "this API needs a token: send Authorization: Bearer <token> (mint one with `flotilla token mint`)");
    }
    const result = registry.authenticate(token, now);
    if ("refused" in result) {
      const count = failures.record(request.ip, now.getTime());
      request.log.warn({ ip: request.ip, method: request.method, url: request.url.split("?")[0], failures: count }, `API authentication failed: ${result.refused}`);
      throw new FlotillaError(ErrorCode.Unauthorized, result.refused);
    }
    const principal = result.principal;
    request.principal = principal;
    // No route matched: the not-found handler answers, whatever the caller's role.
    if (request.routeOptions.url === undefined) return;
    const role = routeRole(request);
    if (!hasRole(principal, role)) {
      request.log.warn({ subject: principal.subject, method: request.method, url: request.url.split("?")[0], needs: role }, "API call forbidden");
      throw new FlotillaError(ErrorCode.Forbidden, `"${principal.subject}" may not ${request.method} ${request.routeOptions.url ?? request.url}: it needs the ${role} role (has: ${principal.roles.join(", ")})`);
    }
  });
}
