// Releases and promotions (docs/promotion.md):
//   POST /v1/releases                              record a release (promoter)
//   GET  /v1/releases[/:id]
//   POST /v1/promotions                            promote a release into an environment (promoter for it)
//   GET  /v1/promotions[?app&environment&state]    list; GET /v1/promotions/:id — gates, waves, clusters, budget, commits
//   POST /v1/promotions/:id/{approve,reject,pause,resume,abort,cancel,retry,rollback}
//   POST /v1/promotions/:id/clusters/:cluster/skip
//   GET  /v1/environments                          pipeline, current release, holds, freeze state
//   GET  /v1/promotion-events                      server-sent events (Last-Event-ID resumes)
// POSTs take an Idempotency-Key header: the same key and body answer what the first call answered.
import { createHash } from "node:crypto";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { ErrorCode, FlotillaError, PromotionState, values } from "@flotilla/model";
import { defaultPromotionPolicy, formatDuration } from "@flotilla/envrepo";
import {
  getIdempotentResponse,
  getRelease,
  listHolds,
  listPromotionClusters,
  listPromotionEvents,
  listPromotions,
  listReleases,
  storeIdempotentResponse,
  type PromotionRow,
} from "@flotilla/store";
import type { ApiContext } from "../context.js";
import { principalOf, requireRole, Role } from "../principal.js";
import { badRequest, NO_QUERY, optionalInteger, queryString } from "../query-params.js";
import { lockedRelease, runningApp, type PromotionController } from "../../promotion.js";
import { freezeState } from "../../promotion/freeze.js";
import type { Actor, PromotionOperations } from "../../promotion-operations.js";

export interface PromotionApi {
  operations: PromotionOperations;
  controller: PromotionController;
}

const NAME = "^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$";
const image = {
  type: "object",
  required: ["name"],
  additionalProperties: false,
  properties: { name: { type: "string", minLength: 1, maxLength: 500 }, digest: { type: "string", pattern: "^sha256:[0-9a-f]{64}$" }, tag: { type: "string", minLength: 1, maxLength: 128 } },
} as const;
const releaseBody = {
  type: "object",
  required: ["app", "sourceRevision", "images"],
  additionalProperties: false,
  properties: {
    app: { type: "string", pattern: NAME },
    sourceRevision: { type: "string", minLength: 1, maxLength: 200 },
    images: { type: "array", minItems: 1, maxItems: 100, items: image },
    note: { type: "string", maxLength: 2000 },
  },
} as const;
const promotionBody = {
  type: "object",
  required: ["release", "environment"],
  additionalProperties: false,
  properties: { release: { type: "string", minLength: 1, maxLength: 200 }, environment: { type: "string", pattern: NAME } },
} as const;
const commentBody = { type: "object", additionalProperties: false, properties: { comment: { type: "string", maxLength: 2000 }, reason: { type: "string", maxLength: 2000 } } } as const;
const idParams = { type: "object", required: ["id"], properties: { id: { type: "string", minLength: 1, maxLength: 200 } } } as const;

const RELEASES_QUERY = queryString({ app: "only this app", limit: "how many, newest first" });
const PROMOTIONS_QUERY = queryString({ app: "only this app", environment: "only into this environment", state: "only in this state", limit: "how many, newest first" });
const EVENTS_QUERY = queryString({ promotion: "only this promotion's events", after: "replay events after this event id (Last-Event-ID also works)" });

function actorOf(request: FastifyRequest): Actor {
  const p = principalOf(request);
  return { subject: p.subject, groups: p.groups };
}

/** Answers a POST once per Idempotency-Key: a retry with the same body gets the stored answer. */
async function idempotent(context: ApiContext, request: FastifyRequest, reply: FastifyReply, scope: string, run: () => Promise<{ status: number; body: object }>): Promise<object> {
  const raw = request.headers["idempotency-key"];
  if (Array.isArray(raw)) throw badRequest("Idempotency-Key", "give the header once");
  if (raw === undefined) {
    const r = await run();
    reply.code(r.status);
    return r.body;
  }
  if (raw.length === 0 || raw.length > 200) throw badRequest("Idempotency-Key", "1 to 200 characters");
  const subject = principalOf(request).subject;
  const requestHash = createHash("sha256").update(JSON.stringify([subject, request.url, request.body ?? null])).digest("hex");
  // Postgres text cannot hold NUL: the (subject, key) pair as JSON is unambiguous and storable.
  const key = JSON.stringify([subject, raw]);
  const stored = await getIdempotentResponse(context.db, scope, key);
  if (stored) {
    if (stored.requestHash !== requestHash) {
      throw new FlotillaError(ErrorCode.IdempotencyKeyReused, `Idempotency-Key "${raw}" was used for a different request; use a new key for a new request`);
    }
    reply.code(stored.status).header("idempotent-replayed", "true");
    return stored.response;
  }
  const r = await run();
  await storeIdempotentResponse(context.db, scope, key, { requestHash, status: r.status, response: r.body as Record<string, unknown> }, context.clock());
  reply.code(r.status);
  return r.body;
}

export function promotionRoutes(app: FastifyInstance, context: ApiContext, api: PromotionApi): void {
  const { operations: ops } = api;

  // --- releases --------------------------------------------------------------------------
  app.post("/v1/releases", { schema: { body: releaseBody }, config: { role: Role.Promoter, errors: [ErrorCode.ImageNotPinned, ErrorCode.IdempotencyKeyReused] } }, async (request, reply) => {
    requireRole(request, Role.Promoter);
    const body = request.body as { app: string; sourceRevision: string; images: { name: string; digest?: string; tag?: string }[]; note?: string };
    return idempotent(context, request, reply, "releases", async () => {
      const r = await ops.createRelease(body, actorOf(request));
      return { status: r.created ? 201 : 200, body: { release: r.release, created: r.created, promotions: r.promotions.map(summary) } };
    });
  });

  app.get("/v1/releases", { schema: { querystring: RELEASES_QUERY } }, async (request) => {
    const q = request.query as Record<string, unknown>;
    const limit = optionalInteger(q, "limit", { min: 1, max: 1000, fallback: 100 });
    return { releases: await listReleases(context.db, typeof q.app === "string" ? q.app : undefined, limit) };
  });

  app.get("/v1/releases/:id", { schema: { params: idParams, querystring: NO_QUERY } }, async (request) => {
    const { id } = request.params as { id: string };
    const release = await getRelease(context.db, id);
    if (!release) throw new FlotillaError(ErrorCode.NotFound, `release ${id} does not exist`);
    const promotions = await listPromotions(context.db, { releaseId: id });
    return { release, promotions: promotions.map(summary) };
  });

  // --- promotions ------------------------------------------------------------------------
  app.post("/v1/promotions", { schema: { body: promotionBody }, config: { role: Role.Promoter, errors: [ErrorCode.NotFound, ErrorCode.ImageNotPinned, ErrorCode.PromotionConflict, ErrorCode.PromotionState, ErrorCode.FreezeWindow, ErrorCode.IdempotencyKeyReused] } }, async (request, reply) => {
    const body = request.body as { release: string; environment: string };
    requireRole(request, Role.Promoter, body.environment);
    return idempotent(context, request, reply, "promotions", async () => {
      const p = await ops.promote(body.release, body.environment, actorOf(request));
      return { status: 201, body: { promotion: await detail(p) } };
    });
  });

  app.get("/v1/promotions", { schema: { querystring: PROMOTIONS_QUERY } }, async (request) => {
    const q = request.query as Record<string, unknown>;
    const states = typeof q.state === "string" ? q.state.split(",") : undefined;
    const known = values(PromotionState) as string[];
    const bad = states?.find((s) => !known.includes(s));
    if (bad) throw badRequest("state", `"${bad}" is not one of ${known.join(", ")}`);
    const rows = await listPromotions(context.db, {
      ...(typeof q.app === "string" ? { app: q.app } : {}),
      ...(typeof q.environment === "string" ? { environment: q.environment } : {}),
      ...(states ? { states: states as PromotionState[] } : {}),
      limit: optionalInteger(q, "limit", { min: 1, max: 1000, fallback: 100 }),
    });
    return { promotions: rows.map(summary) };
  });

  app.get("/v1/promotions/:id", { schema: { params: idParams, querystring: NO_QUERY } }, async (request) => {
    const { id } = request.params as { id: string };
    return { promotion: await detail(await ops.get(id)) };
  });

  type Verb = "approve" | "reject" | "pause" | "resume" | "abort" | "cancel" | "retry" | "rollback";
  const verbs: Verb[] = ["approve", "reject", "pause", "resume", "abort", "cancel", "retry", "rollback"];
  for (const verb of verbs) {
    app.post(`/v1/promotions/:id/${verb}`, { schema: { params: idParams, body: commentBody }, config: { role: Role.Promoter, errors: [ErrorCode.SelfApproval, ErrorCode.PromotionState, ErrorCode.PromotionConflict, ErrorCode.FreezeWindow, ErrorCode.IdempotencyKeyReused] } }, async (request, reply) => {
      const { id } = request.params as { id: string };
      const body = (request.body ?? {}) as { comment?: string; reason?: string };
      const target = await ops.get(id);
      requireRole(request, Role.Promoter, target.environment);
      return idempotent(context, request, reply, `promotion-${verb}`, async () => {
        const actor = actorOf(request);
        const text = body.comment ?? body.reason;
        const r =
          verb === "approve" ? await ops.approve(id, actor, text)
          : verb === "reject" ? await ops.reject(id, actor, text)
          : verb === "pause" ? await ops.pause(id, actor)
          : verb === "resume" ? await ops.resume(id, actor)
          : verb === "abort" ? await ops.abort(id, actor, text)
          : verb === "cancel" ? await ops.cancel(id, actor)
          : verb === "retry" ? await ops.retry(id, actor)
          : await ops.rollback(id, actor, text);
        return { status: verb === "rollback" ? 201 : 200, body: { promotion: await detail(r) } };
      });
    });
  }

  app.post(
    "/v1/promotions/:id/clusters/:cluster/skip",
    { schema: { params: { type: "object", required: ["id", "cluster"], properties: { id: { type: "string" }, cluster: { type: "string", pattern: NAME } } }, body: { ...commentBody, required: ["reason"] } }, config: { role: Role.Promoter, errors: [ErrorCode.PromotionState, ErrorCode.IdempotencyKeyReused] } },
    async (request, reply) => {
      const { id, cluster } = request.params as { id: string; cluster: string };
      const { reason } = request.body as { reason: string };
      const target = await ops.get(id);
      requireRole(request, Role.Promoter, target.environment);
      return idempotent(context, request, reply, "promotion-skip", async () => ({ status: 200, body: { promotion: await detail(await ops.skip(id, cluster, actorOf(request), reason)) } }));
    },
  );

  // --- environments ----------------------------------------------------------------------
  app.get("/v1/environments", { schema: { querystring: NO_QUERY } }, async () => {
    const { fleet, view } = await api.controller.fleetAtHead();
    const now = context.clock();
    const holds = await listHolds(context.db);
    return {
      environments: await Promise.all(
        fleet.environments.map(async (env) => {
          const policy = env.promotion ?? defaultPromotionPolicy();
          const freeze = freezeState(policy.freeze, now, false);
          const apps = fleet.apps.filter((a) => runningApp(fleet, a.name, env.name).length > 0).map((a) => a.name);
          const active = await listPromotions(context.db, { environment: env.name, states: [PromotionState.Pending, PromotionState.Running, PromotionState.Verifying, PromotionState.Paused, PromotionState.Halted, PromotionState.Errored] });
          return {
            name: env.name,
            from: policy.from,
            autoPromote: policy.autoPromote,
            soak: formatDuration(policy.soakMs),
            approvals: policy.approvals,
            digestOnly: policy.digestOnly,
            waves: policy.rollout.waves,
            clusters: fleet.clusters.filter((c) => c.environment === env.name).map((c) => c.name),
            freeze: { blocked: freeze.blocked, ...(freeze.window ? { window: freeze.window } : {}), ...(freeze.until ? { until: freeze.until } : {}), windows: policy.freeze },
            releases: Object.fromEntries(apps.map((a) => [a, lockedRelease(view, a, env.name) ?? null])),
            holds: holds.filter((h) => h.environment === env.name),
            promotions: active.map(summary),
          };
        }),
      ),
    };
  });

  // --- event stream ----------------------------------------------------------------------
  app.get("/v1/promotion-events", { schema: { querystring: EVENTS_QUERY } }, async (request, reply) => {
    const q = request.query as Record<string, unknown>;
    const lastId = request.headers["last-event-id"];
    let after = Number(typeof lastId === "string" ? lastId : (q.after ?? 0));
    if (!Number.isInteger(after) || after < 0) throw badRequest("after", "a non-negative event id");
    const promotion = typeof q.promotion === "string" ? q.promotion : undefined;
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache", connection: "keep-alive", "x-accel-buffering": "no" });
    res.write(": flotilla promotion events\n\n");
    let closed = false;
    request.raw.on("close", () => (closed = true));
    // Polls the event table: every hub replica serves the same stream, whichever one is leader.
    while (!closed) {
      const events = await listPromotionEvents(context.db, { afterId: after, ...(promotion ? { promotionId: promotion } : {}) }).catch(() => []);
      for (const e of events) {
        res.write(`id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
        after = e.id;
      }
      if (events.length === 0) res.write(": keep-alive\n\n");
      await new Promise((r) => setTimeout(r, events.length ? 50 : 500));
    }
    res.end();
  });

  // --- views -----------------------------------------------------------------------------
  async function detail(p: PromotionRow) {
    const [clusters, approvals, release] = await Promise.all([listPromotionClusters(context.db, p.id), ops.approvalsOf(p.id), getRelease(context.db, p.release_id)]);
    const byWave = p.plan.waves.map((w, i) => {
      const rows = clusters.filter((c) => c.wave === i);
      const failed = rows.filter((c) => c.outcome === "Failed" || c.outcome === "TimedOut" || c.outcome === "Regressed").length;
      return {
        index: i + 1,
        name: w.name,
        state: i < p.current_wave ? "Done" : i === p.current_wave && p.commits.some((c) => c.wave === i) ? (p.wave_settled_at ? "Settled" : "Running") : "Waiting",
        failureBudget: w.failureBudget,
        failed,
        soak: formatDuration(w.soakMs),
        pause: formatDuration(w.pauseMs),
        commit: p.commits.find((c) => c.wave === i)?.revision ?? null,
        clusters: rows.map((c) => ({
          cluster: c.cluster,
          outcome: c.outcome,
          message: c.message,
          generation: c.generation === null ? null : Number(c.generation),
          bundleDigest: c.bundle_digest,
          issuedAt: c.issued_at?.toISOString() ?? null,
          healthySince: c.healthy_since?.toISOString() ?? null,
          ...(c.skipped_by ? { skippedBy: c.skipped_by } : {}),
        })),
      };
    });
    const totalFailed = byWave.reduce((n, w) => n + w.failed, 0);
    return {
      ...summary(p),
      release: release ?? p.release_id,
      gates: p.gates,
      approvals,
      waves: byWave,
      budget: { totalFailureBudget: p.plan.totalFailureBudget, failed: totalFailed, remaining: Math.max(0, p.plan.totalFailureBudget - totalFailed) },
      rollout: { progressDeadline: formatDuration(p.plan.progressDeadlineMs), minHealthy: formatDuration(p.plan.minHealthyMs), unknownAfter: formatDuration(p.plan.unknownAfterMs) },
      commits: p.commits,
      baseRevision: p.base_revision,
      previousRelease: p.previous_release_id,
      ...(p.error ? { error: p.error } : {}),
    };
  }
}

/** The list view of a promotion. */
export function summary(p: PromotionRow) {
  return {
    id: p.id,
    app: p.app,
    environment: p.environment,
    releaseId: p.release_id,
    kind: p.kind,
    ...(p.rollback_of ? { rollbackOf: p.rollback_of } : {}),
    state: p.state,
    ...(p.superseded_by ? { supersededBy: p.superseded_by } : {}),
    reason: p.reason,
    requestedBy: p.requested_by,
    auto: p.auto,
    currentWave: p.plan.waves.length ? Math.min(p.current_wave + 1, p.plan.waves.length) : 0,
    waveCount: p.plan.waves.length,
    createdAt: p.created_at.toISOString(),
    updatedAt: p.updated_at.toISOString(),
    finishedAt: p.finished_at?.toISOString() ?? null,
  };
}

