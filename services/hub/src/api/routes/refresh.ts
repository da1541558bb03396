// POST /v1/refresh — fetch, render and publish now instead of waiting for the next poll.
import type { FastifyInstance } from "fastify";
import type { HubControl } from "../hub-control.js";

export function refreshRoutes(app: FastifyInstance, hub: HubControl): void {
  app.post("/v1/refresh", async () => {
    const { revision, published } = await hub.refresh();
    return { revision, published };
  });
}
