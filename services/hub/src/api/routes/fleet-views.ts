// One-call fleet answers:
//   GET /v1/fleet/matrix                      environment × cluster × app: health, sync, open drift, pinned release
//   GET /v1/clusters/:name/pointers           every desired pointer a cluster was issued, newest first
//   GET /v1/provenance?app=[&cluster][&kind&name&namespace]
//                                              what runs where and why: revision, commit author and
//                                              message, image digests, agent, applied-at, and the
//                                              promotion and release that pinned it
import type { FastifyInstance } from "fastify";
import { ErrorCode, FlotillaError } from "@flotilla/model";
import { appsForCluster, releaseLockFor } from "@flotilla/envrepo";
import { getClusterDetail, listClusterOverviews, listDesiredPointers } from "@flotilla/store";
import type { ApiContext } from "../context.js";
import { badRequest, clusterName, NO_QUERY, optionalInteger, queryString } from "../query-params.js";
import type { PromotionController } from "../../promotion.js";

const POINTERS_QUERY = queryString({ limit: "how many pointers, newest first", before: "only generations below this one (the next page)" });
const PROVENANCE_QUERY = queryString({ app: "the app", cluster: "only this cluster", kind: "only objects of this kind", name: "only objects of this name", namespace: "only objects in this namespace" });

export function fleetViewRoutes(app: FastifyInstance, context: ApiContext, controller: PromotionController): void {
  app.get("/v1/fleet/matrix", { schema: { querystring: NO_QUERY } }, async () => {
    const { fleet, view, revision } = await controller.fleetAtHead();
    const now = context.clock();
    const overviews = new Map((await listClusterOverviews(context.db, { now })).map((o) => [o.name, o]));
    const details = await Promise.all(fleet.clusters.map((c) => getClusterDetail(context.db, c.name, { now })));
    return {
      revision,
      environments: fleet.environments.map((env) => ({
        name: env.name,
        clusters: fleet.clusters
          .filter((c) => c.environment === env.name)
          .map((c) => {
            const o = overviews.get(c.name);
            const d = details.find((x) => x?.name === c.name);
            return {
              name: c.name,
              syncState: o?.syncState ?? "Unknown",
              health: o?.health ?? "Unknown",
              desired: o?.desired ? { revision: o.desired.revision, generation: o.desired.generation } : null,
              lastHeartbeat: o?.lastHeartbeat?.at ?? null,
              openDriftCount: o?.openDriftCount ?? 0,
              apps: appsForCluster(fleet, c).map((a) => {
                const lock = releaseLockFor(view, a, c);
                return { name: a.name, health: d?.apps.find((x) => x.name === a.name)?.health ?? "Unknown", release: lock.ok ? (lock.lock?.release ?? null) : null };
              }),
            };
          }),
      })),
    };
  });

  app.get<{ Params: { name: string } }>("/v1/clusters/:name/pointers", { schema: { querystring: POINTERS_QUERY } }, async (request) => {
    const q = request.query as Record<string, unknown>;
    const cluster = clusterName(request.params.name, "name");
    const limit = optionalInteger(q, "limit", { min: 1, max: 1000, fallback: 100 });
    const before = q.before === undefined ? undefined : optionalInteger(q, "before", { min: 1, max: Number.MAX_SAFE_INTEGER, fallback: 1 });
    const pointers = await listDesiredPointers(context.db, cluster, { limit, ...(before ? { before } : {}) });
    if (pointers.length === 0 && !(await getClusterDetail(context.db, cluster))) throw new FlotillaError(ErrorCode.NotFound, `cluster ${cluster} is not in the fleet`);
    return { cluster, pointers };
  });

  app.get("/v1/provenance", { schema: { querystring: PROVENANCE_QUERY }, config: { errors: [ErrorCode.NotFound] } }, async (request) => {
    const q = request.query as Record<string, unknown>;
    if (typeof q.app !== "string" || q.app === "") throw badRequest("app", "required: the app whose provenance to show");
    const appName = q.app;
    const only = typeof q.cluster === "string" ? clusterName(q.cluster, "cluster") : undefined;
    const { fleet } = await controller.fleetAtHead();
    const app = fleet.apps.find((a) => a.name === appName);
    if (!app) throw new FlotillaError(ErrorCode.NotFound, `app ${appName} is not in flotilla.yaml`, { location: { field: "app" } });
    const clusters = fleet.clusters.filter((c) => (only ? c.name === only : true) && appsForCluster(fleet, c).some((a) => a.name === appName));
    if (only && clusters.length === 0) throw new FlotillaError(ErrorCode.NotFound, `cluster ${only} does not run app ${appName}`, { location: { field: "cluster" } });
    const now = context.clock();
    return {
      app: appName,
      clusters: await Promise.all(
        clusters.map(async (c) => {
          const d = await getClusterDetail(context.db, c.name, { now });
          const objects = (d?.apps.find((a) => a.name === appName)?.objects ?? []).filter(
            (o) => (q.kind === undefined || o.kind === q.kind) && (q.name === undefined || o.name === q.name) && (q.namespace === undefined || o.namespace === q.namespace),
          );
          let pinnedBy: { release: string; promotion: string; images: unknown } | null = null;
          if (d?.desired) {
            const lock = releaseLockFor(await controller.viewAt(d.desired.revision), app, c);
            if (lock.ok && lock.lock) pinnedBy = { release: lock.lock.release, promotion: lock.lock.promotion, images: lock.lock.images };
          }
          return {
            cluster: c.name,
            environment: c.environment,
            revision: d?.desired?.revision ?? null,
            generation: d?.desired?.generation ?? null,
            commit: d?.desired?.commit ?? null,
            agent: d?.reported?.agent ?? null,
            reportedAt: d?.reported?.reportedAt ?? null,
            syncState: d?.syncState ?? "Unknown",
            health: d?.health ?? "Unknown",
            pinnedBy,
            objects: objects.map((o) => ({ kind: o.kind, namespace: o.namespace, name: o.name, images: o.images, action: o.action, appliedAt: o.updatedAt, generation: o.generation, health: o.health })),
          };
        }),
      ),
    };
  });
}
