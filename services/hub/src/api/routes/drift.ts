// GET /v1/drift — the drift ledger, newest first.
import type { FastifyInstance } from "fastify";
import { listDriftEvents } from "@flotilla/store";
import type { ApiContext } from "../context.js";
import { onlyKnown, optionalClusterName, optionalInteger, optionalTimestamp } from "../query-params.js";
import type { DriftEventBody } from "../responses.js";

export const DRIFT_LIMIT = { min: 1, max: 1000, fallback: 100 } as const;

export function driftRoutes(app: FastifyInstance, { db }: ApiContext): void {
  app.get("/v1/drift", async (request): Promise<DriftEventBody[]> => {
    const query = request.query as Record<string, unknown>;
    onlyKnown(query, ["cluster", "since", "limit"]);
    const cluster = optionalClusterName(query, "cluster");
    const since = optionalTimestamp(query, "since");
    const limit = optionalInteger(query, "limit", DRIFT_LIMIT);
    return listDriftEvents(db, { ...(cluster ? { cluster } : {}), ...(since ? { since } : {}), limit });
  });
}
