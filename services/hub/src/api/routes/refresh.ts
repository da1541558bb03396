// POST /v1/refresh — fetch, render and publish now instead of waiting for the next poll. On a
// follower replica: 202, handed to the leader (docs/ha.md).
import type { FastifyInstance } from "fastify";
import type { HubControl } from "../hub-control.js";
import type { RefreshBody, RefreshHandedOffBody } from "../responses.js";
import { ErrorCode } from "@flotilla/model";
import { Role } from "../principal.js";

export function refreshRoutes(app: FastifyInstance, hub: HubControl): void {
  app.post("/v1/refresh", { config: { role: Role.Operator, errors: [ErrorCode.RepoUnavailable, ErrorCode.NotLeader] } }, async (_request, reply) => {
    const r = await hub.refresh();
    if ("handedOff" in r) return reply.code(202).send({ handedOff: true, leader: r.leader } satisfies RefreshHandedOffBody);
    return { revision: r.revision, published: r.published } satisfies RefreshBody;
  });
}
