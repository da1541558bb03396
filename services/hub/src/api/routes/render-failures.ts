// GET /v1/render-failures — why the newest revision did not render (the hub keeps serving the
// last good bundles meanwhile).
import type { FastifyInstance } from "fastify";
import { latestRenderFailure } from "@flotilla/store";
import type { ApiContext } from "../context.js";
import { NO_QUERY } from "../query-params.js";
import type { RenderFailuresBody } from "../responses.js";

export function renderFailureRoutes(app: FastifyInstance, { db }: ApiContext): void {
  app.get("/v1/render-failures", { schema: { querystring: NO_QUERY } }, async (): Promise<RenderFailuresBody> => {
    return { latest: (await latestRenderFailure(db)) ?? null };
  });
}
