// GET /metrics — Prometheus text format, served by the OpenTelemetry Prometheus exporter's
// request handler (telemetry-sdk.ts). Behind a bearer token (viewer) like the rest of the API:
// configure the scrape job with `authorization: { credentials: ... }`.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { FastifyInstance } from "fastify";
import { NO_QUERY } from "../query-params.js";

/** Writes a complete response (status, headers, body) for one scrape. */
export type MetricsHandler = (request: IncomingMessage, response: ServerResponse) => void;

export function metricsRoutes(app: FastifyInstance, handler: MetricsHandler): void {
  app.get("/metrics", { schema: { querystring: NO_QUERY } }, (request, reply) => {
    // The exporter writes to the raw response itself: fastify must not send one too.
    reply.hijack();
    handler(request.raw, reply.raw);
  });
}
