// GET /healthz (the process answers) and GET /readyz (the database answers and the hub is ready;
// with several replicas, a follower is ready too: it serves the API and ingests, and the body says
// which replica leads).
import type { FastifyInstance } from "fastify";
import { databaseReachable } from "@flotilla/store";
import type { ApiContext } from "../context.js";
import { NO_QUERY } from "../query-params.js";

export function probeRoutes(app: FastifyInstance, { db, hub }: ApiContext): void {
  app.get("/healthz", { config: { public: true }, schema: { querystring: NO_QUERY } }, async () => ({ status: "ok" }));

  app.get("/readyz", { config: { public: true }, schema: { querystring: NO_QUERY } }, async (_request, reply) => {
    const checks: Record<string, boolean> = { database: await databaseReachable(db) };
    if (hub) checks.hub = hub.ready();
    const ready = Object.values(checks).every(Boolean);
    const role = hub?.role ? await hub.role() : undefined;
    return reply.code(ready ? 200 : 503).send({ status: ready ? "ready" : "not-ready", checks, ...role });
  });
}
