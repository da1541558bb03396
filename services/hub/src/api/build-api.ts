// The fleet API: views of the fleet from Postgres, probes, refresh, break-glass and promotion,
// every route behind a bearer token (bearer-auth.ts) unless it is declared public.
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyServerOptions } from "fastify";
import type { Kysely } from "kysely";
import type { FleetSchema } from "@flotilla/store";
import { installAuth, type ApiAuth } from "./bearer-auth.js";
import type { ApiContext } from "./context.js";
import { defaultRole, type Role } from "./principal.js";
import { frameworkError, installErrorHandlers } from "./error-handler.js";
import { installOpenApi } from "./openapi.js";
import { installQueryCheck } from "./query-check.js";
import { installStorableInput } from "./storable-input.js";
import type { HubControl } from "./hub-control.js";
import { clusterRoutes } from "./routes/clusters.js";
import { driftRoutes } from "./routes/drift.js";
import { probeRoutes } from "./routes/probes.js";
import { refreshRoutes } from "./routes/refresh.js";
import { breakGlassRoutes } from "./routes/break-glass.js";
import { rejectedReportRoutes } from "./routes/rejected-reports.js";
import { renderFailureRoutes } from "./routes/render-failures.js";
import { metricsRoutes, type MetricsHandler } from "./routes/metrics.js";
import { promotionRoutes, type PromotionApi } from "./routes/promotions.js";
import { explainRoutes } from "./routes/explain.js";
import { fleetViewRoutes } from "./routes/fleet-views.js";
import { dashboardRoutes } from "./routes/dashboard.js";
import { checkGitWebhookOptions, gitWebhookRoutes, type GitWebhookOptions } from "./routes/git-webhook.js";
import { requestIdGenerator } from "./request-id.js";

export interface ApiOptions {
  db: Kysely<FleetSchema>;
  /** The running hub; without it POST /v1/refresh does not exist and /readyz checks only the DB. */
  hub?: HubControl;
  /** fastify logger option (default off). */
  logger?: FastifyServerOptions["logger"];
  /** A logger the process made (the CLI's pino logger, with its component and trace fields);
   * wins over `logger`. */
  loggerInstance?: FastifyBaseLogger;
  /** Clock for heartbeat deadlines (default: system time). */
  clock?: () => Date;
  /**
   * Required: the accepted bearer tokens, or `{ insecureNoAuth: true }` to switch authentication
   * off. There is no default, so no caller gets an open API by leaving a field out.
   */
  auth: ApiAuth;
  /** Serves GET /metrics (Prometheus text) when given: `startTelemetry(...).metricsHandler`. */
  metrics?: MetricsHandler;
  /** POST /v1/webhooks/git (push → refresh now), verified with these secrets; needs `hub`. */
  webhooks?: GitWebhookOptions;
  /** Releases, promotions and environments (the hub's promotion controller). */
  promotion?: PromotionApi;
}

/** A route as registered, with the access it declared: what the auth and OpenAPI tests walk. */
export interface RouteEntry {
  method: string;
  url: string;
  role: Role;
  public: boolean;
}

declare module "fastify" {
  interface FastifyInstance {
    /** Every route of this API (HEAD twins left out), filled as routes register. */
    routeTable: RouteEntry[];
  }
}

export function buildApi(options: ApiOptions): FastifyInstance {
  const genReqId = requestIdGenerator();
  // Schemas check, they never repair: fastify's default ajv turns 0 into "0" and silently drops
  // unknown fields, so a typo'd or mistyped field would be accepted as something else. `verbose`
  // hands the error handler the schema at fault, so a refusal says what to send (validation-message.ts).
  const common = { genReqId, frameworkErrors: frameworkError, ajv: { customOptions: { coerceTypes: false, removeAdditional: false, verbose: true } } } as const;
  const app: FastifyInstance = options.loggerInstance ? Fastify({ loggerInstance: options.loggerInstance, ...common }) : Fastify({ logger: options.logger ?? false, ...common });
  const routeTable: RouteEntry[] = [];
  app.decorate("routeTable", routeTable);
  app.addHook("onRoute", (route) => {
    for (const method of [route.method].flat()) {
      if (method === "HEAD") continue;
      routeTable.push({ method, url: route.url, role: route.config?.role ?? defaultRole(method), public: route.config?.public === true });
    }
  });
  const context: ApiContext = { db: options.db, hub: options.hub, clock: options.clock ?? (() => new Date()) };
  installErrorHandlers(app);
  installQueryCheck(app);
  installStorableInput(app);
  installAuth(app, options.auth, context.clock);
  installOpenApi(app);
  if (options.webhooks) checkGitWebhookOptions(options.webhooks);
  // The routes register in a plugin that loads after the OpenAPI generator, so it sees each one.
  void app.register(async (api) => {
    probeRoutes(api, context);
    dashboardRoutes(api);
    clusterRoutes(api, context);
    driftRoutes(api, context);
    renderFailureRoutes(api, context);
    rejectedReportRoutes(api, context);
    if (options.hub) refreshRoutes(api, options.hub);
    if (options.hub && options.webhooks) gitWebhookRoutes(api, options.hub, options.webhooks);
    if (options.hub?.breakGlass) breakGlassRoutes(api, context, options.hub.breakGlass);
    if (options.metrics) metricsRoutes(api, options.metrics);
    if (options.promotion) {
      promotionRoutes(api, context, options.promotion);
      explainRoutes(api, context, options.promotion.controller);
      fleetViewRoutes(api, context, options.promotion.controller);
    }
  });
  return app;
}
