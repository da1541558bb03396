// Who is calling, and what they may do. The contract every route shares: the authentication hook
// (bearer tokens, see bearer-auth.ts) sets `request.principal`; routes declare the role they need
// in their route config (`config: { role: "operator" }`) and, for per-environment rights, call
// `requireRole(request, "promoter", environment)` once they know the environment.
//
// Roles, from least to most: viewer (read everything), operator (refresh, break-glass), promoter
// (releases and promotions, per environment), admin (everything). Admin implies every role; any
// role implies viewer. A promoter grant is limited to the environments listed with it ("*" = all).
import type { FastifyRequest } from "fastify";
import { ErrorCode, FlotillaError } from "@flotilla/model";

export const Role = {
  Viewer: "viewer",
  Operator: "operator",
  Promoter: "promoter",
  Admin: "admin",
} as const;
export type Role = (typeof Role)[keyof typeof Role];

export interface Principal {
  /** The authenticated subject: the actor of every audit row, never a header or a body field. */
  subject: string;
  roles: readonly Role[];
  /** Environments a promoter may promote into; "*" for all. Ignored for other roles. */
  environments: readonly string[];
  /** Groups the subject belongs to (approval gates may require a group). */
  groups: readonly string[];
}

/** The principal when the hub runs with `--insecure-no-auth`: everything allowed, loudly logged. */
export const INSECURE_PRINCIPAL: Principal = { subject: "anonymous (auth disabled)", roles: [Role.Admin], environments: ["*"], groups: [] };

declare module "fastify" {
  interface FastifyRequest {
    principal?: Principal;
  }
  interface FastifyContextConfig {
    /** The role a route needs; absent: viewer for GET/HEAD, admin for anything else. */
    role?: Role;
    /** No token needed: probes, and webhooks that carry their own signature. */
    public?: boolean;
  }
}

/** The caller, as the authentication hook found it (the insecure principal under --insecure-no-auth). */
export function principalOf(request: FastifyRequest): Principal {
  // A route reached without the hook setting a principal is a public route asking who calls:
  // there is nobody to name, so refuse rather than guess.
  if (!request.principal) throw new FlotillaError(ErrorCode.Unauthorized, "this call needs a token: send Authorization: Bearer <token>");
  return request.principal;
}

export function hasRole(principal: Principal, role: Role, environment?: string): boolean {
  if (principal.roles.includes(Role.Admin)) return true;
  if (role === Role.Viewer) return principal.roles.length > 0;
  if (!principal.roles.includes(role)) return false;
  if (role === Role.Promoter && environment !== undefined) {
    return principal.environments.includes("*") || principal.environments.includes(environment);
  }
  return true;
}

/** Throws FLOTILLA_ERR_FORBIDDEN (403) naming the subject, the role and the environment. */
export function requireRole(request: FastifyRequest, role: Role, environment?: string): Principal {
  const principal = principalOf(request);
  if (!hasRole(principal, role, environment)) {
    const where = environment !== undefined ? ` for environment "${environment}"` : "";
    throw new FlotillaError(ErrorCode.Forbidden, `"${principal.subject}" may not do this: it needs the ${role} role${where} (has: ${principal.roles.join(", ") || "none"})`);
  }
  return principal;
}

/** The role a route that declares none needs: viewer for reads, admin for writes. */
export const defaultRole = (method: string): Role => (method === "GET" || method === "HEAD" ? Role.Viewer : Role.Admin);

/** The role a route declared, or the default for its method. */
export function routeRole(request: FastifyRequest): Role {
  return request.routeOptions.config?.role ?? defaultRole(request.method);
}
