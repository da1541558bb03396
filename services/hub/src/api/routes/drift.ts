// GET /v1/drift — the drift ledger, newest first, filtered by cluster, app, environment, kind,
// namespace, actor, action, open/closed and time; pages continue with the `x-next-cursor`
// response header (`?cursor=`), so a long ledger is read without offsets that shift under it.
import type { FastifyInstance } from "fastify";
import { DriftAction, values } from "@flotilla/model";
import { decodeDriftCursor, encodeDriftCursor, listDriftEvents } from "@flotilla/store";
import type { ApiContext } from "../context.js";
import { badRequest, optionalClusterName, optionalInteger, optionalTimestamp, queryString } from "../query-params.js";
import type { DriftEventBody } from "../responses.js";

export const DRIFT_LIMIT = { min: 1, max: 1000, fallback: 100 } as const;
const TEXT_FILTERS = ["app", "environment", "kind", "namespace", "actor"] as const;

const DRIFT_QUERY = queryString({
  cluster: "only this cluster",
  app: "only this app",
  environment: "only clusters of this environment",
  kind: "only objects of this kind",
  namespace: "only objects in this namespace",
  actor: "only drift made by this actor (field manager or user)",
  action: "only this action (reported, reverted, blocked-by-break-glass, …)",
  state: "open or closed",
  since: "ISO-8601 time: detected at or after",
  until: "ISO-8601 time: detected before",
  limit: "page size, 1 to 1000 (default 100)",
  cursor: "the x-next-cursor header of the previous page",
});

export function driftRoutes(app: FastifyInstance, { db }: ApiContext): void {
  app.get("/v1/drift", { schema: { querystring: DRIFT_QUERY } }, async (request, reply): Promise<DriftEventBody[]> => {
    const query = request.query as Record<string, unknown>;
    const cluster = optionalClusterName(query, "cluster");
    const since = optionalTimestamp(query, "since");
    const until = optionalTimestamp(query, "until");
    const limit = optionalInteger(query, "limit", DRIFT_LIMIT);
    const text: Partial<Record<(typeof TEXT_FILTERS)[number], string>> = {};
    for (const f of TEXT_FILTERS) {
      const v = query[f];
      if (v === undefined) continue;
      if (typeof v !== "string" || v === "") throw badRequest(f, "give it once, non-empty");
      text[f] = v;
    }
    const action = query.action;
    if (action !== undefined && (typeof action !== "string" || !(values(DriftAction) as string[]).includes(action))) {
      throw badRequest("action", `one of ${values(DriftAction).join(", ")}`);
    }
    const state = query.state;
    if (state !== undefined && state !== "open" && state !== "closed") throw badRequest("state", "open or closed");
    let after;
    if (query.cursor !== undefined) {
      after = typeof query.cursor === "string" ? decodeDriftCursor(query.cursor) : undefined;
      if (!after) throw badRequest("cursor", "not a cursor this API handed out; use the x-next-cursor header of the previous page");
    }
    const events = await listDriftEvents(db, {
      ...(cluster ? { cluster } : {}),
      ...text,
      ...(action ? { action: action as DriftAction } : {}),
      ...(state ? { state } : {}),
      ...(since ? { since } : {}),
      ...(until ? { until } : {}),
      ...(after ? { after } : {}),
      limit,
    });
    const last = events[events.length - 1];
    if (events.length === limit && last) reply.header("x-next-cursor", encodeDriftCursor({ detectedAt: new Date(last.detectedAt), id: last.id }));
    return events;
  });
}
