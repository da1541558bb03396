// GET /healthz (the process answers) and GET /readyz (the database answers and the hub is ready).
import type { FastifyInstance } from "fastify";
import { databaseReachable } from "@flotilla/store";
import type { ApiContext } from "../context.js";

export function probeRoutes(app: FastifyInstance, { db, hub }: ApiContext): void {
  app.get("/healthz", { config: { public: true } }, async () => ({ status: "ok" }));

  app.get("/readyz", { config: { public: true } }, async (_request, reply) => {
    const checks: Record<string, boolean> = { database: await databaseReachable(db) };
    if (hub) checks.hub = hub.ready();
    const ready = Object.values(checks).every(Boolean);
    return reply.code(ready ? 200 : 503).send({ status: ready ? "ready" : "not-ready", checks });
  });
}
