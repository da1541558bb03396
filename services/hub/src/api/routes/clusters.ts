// GET /v1/clusters and GET /v1/clusters/:name — the fleet overview and one cluster in detail.
import type { FastifyInstance } from "fastify";
import { ErrorCode, FlotillaError } from "@flotilla/model";
import { getClusterDetail, listClusterOverviews } from "@flotilla/store";
import type { ApiContext } from "../context.js";
import { clusterName, NO_QUERY } from "../query-params.js";
import type { ClusterDetailBody, ClusterSummaryBody } from "../responses.js";
import { clusterSummary } from "../cluster-summary.js";

export function clusterRoutes(app: FastifyInstance, { db, clock }: ApiContext): void {
  app.get("/v1/clusters", { schema: { querystring: NO_QUERY } }, async (): Promise<ClusterSummaryBody[]> => {
    const clusters = await listClusterOverviews(db, { now: clock() });
    return clusters.map(clusterSummary);
  });

  app.get<{ Params: { name: string } }>("/v1/clusters/:name", { schema: { querystring: NO_QUERY } }, async (request): Promise<ClusterDetailBody> => {
    const name = clusterName(request.params.name, "name");
    const detail = await getClusterDetail(db, name, { now: clock() });
    if (!detail) throw new FlotillaError(ErrorCode.NotFound, `cluster "${name}" is not in the fleet`, { location: { field: "name" } });
    return { ...clusterSummary(detail), reported: detail.reported, heartbeat: detail.lastHeartbeat, apps: detail.apps };
  });
}
