// POST /v1/refresh — fetch, render and publish now instead of waiting for the next poll.
import type { FastifyInstance } from "fastify";
import type { HubControl } from "../hub-control.js";
import type { RefreshBody } from "../responses.js";
import { ErrorCode } from "@flotilla/model";
import { Role } from "../principal.js";

export function refreshRoutes(app: FastifyInstance, hub: HubControl): void {
  app.post("/v1/refresh", { config: { role: Role.Operator, errors: [ErrorCode.RepoUnavailable] } }, async (): Promise<RefreshBody> => {
    const { revision, published } = await hub.refresh();
    return { revision, published };
  });
}
