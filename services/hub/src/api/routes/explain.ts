// GET /v1/explain?cluster=&app=&revision= — why cluster X is (not) running app A at revision R
// (default: the last revision the hub resolved), with the evidence rows. docs/api.md.
import type { FastifyInstance } from "fastify";
import { ErrorCode, FlotillaError, PromotionState } from "@flotilla/model";
import { defaultPromotionPolicy } from "@flotilla/envrepo";
import { getClusterDetail, latestRenderFailure, listActiveBreakGlass, listDriftEvents, listPromotionClusters, listPromotions } from "@flotilla/store";
import type { ApiContext } from "../context.js";
import { badRequest, clusterName, queryString } from "../query-params.js";
import { explain } from "../../explain.js";
import { runningApp, type PromotionController } from "../../promotion.js";
import { freezeState } from "../../promotion/freeze.js";

const OPEN: PromotionState[] = [PromotionState.Pending, PromotionState.Running, PromotionState.Verifying, PromotionState.Paused, PromotionState.Halted, PromotionState.Errored];

const EXPLAIN_QUERY = queryString({ cluster: "required: the cluster", app: "required: the app", revision: "the revision expected (default: the env repo's head)" });

export function explainRoutes(app: FastifyInstance, context: ApiContext, controller: PromotionController): void {
  app.get("/v1/explain", { schema: { querystring: EXPLAIN_QUERY }, config: { errors: [ErrorCode.NotFound] } }, async (request) => {
    const q = request.query as Record<string, unknown>;
    const cluster = clusterName(q.cluster, "cluster");
    if (typeof q.app !== "string" || q.app === "") throw badRequest("app", "required: the app to explain");
    const appName = q.app;
    if (q.revision !== undefined && (typeof q.revision !== "string" || !/^[0-9a-f]{40}$/.test(q.revision))) throw badRequest("revision", "a full 40-hex commit id");
    const now = context.clock();
    const detail = await getClusterDetail(context.db, cluster, { now });
    if (!detail) throw new FlotillaError(ErrorCode.NotFound, `cluster ${cluster} is not in the fleet`, { location: { field: "cluster" } });
    const head = await controller.fleetAtHead();
    if (!head.fleet.apps.some((a) => a.name === appName)) throw new FlotillaError(ErrorCode.NotFound, `app ${appName} is not in flotilla.yaml (apps: ${head.fleet.apps.map((a) => a.name).join(", ")})`, { location: { field: "app" } });
    const env = head.fleet.environments.find((e) => e.name === detail.environment);
    const promotions = await listPromotions(context.db, { app: appName, environment: detail.environment, states: OPEN });
    const withRows = await Promise.all(promotions.map(async (p) => ({ promotion: p, cluster: (await listPromotionClusters(context.db, p.id)).find((r) => r.cluster === cluster) })));
    const failure = await latestRenderFailure(context.db);
    return explain({
      cluster: detail,
      app: appName,
      revision: typeof q.revision === "string" ? q.revision : head.revision,
      lastGood: head.revision,
      appSelected: runningApp(head.fleet, appName, detail.environment).some((c) => c.name === cluster),
      renderFailure: failure,
      promotions: withRows,
      freeze: freezeState((env?.promotion ?? defaultPromotionPolicy()).freeze, now, false),
      breakGlass: await listActiveBreakGlass(context.db, { cluster, now }),
      openDrift: (await listDriftEvents(context.db, { cluster, limit: 200 })).filter((d) => d.resolvedAt === null),
      now,
    });
  });
}
