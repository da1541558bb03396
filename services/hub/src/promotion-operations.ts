// What people (through the API and the CLI) ask of promotion: create releases and promotions,
// approve or reject, pause, resume, abort, cancel, retry, skip a cluster, roll back. Each checks
// the state it acts on and answers with a typed error (a stable code) when it cannot; the
// controller (promotion.ts) then drives the promotion on its next tick.
import { createHash } from "node:crypto";
import {
  ClusterOutcome,
  ErrorCode,
  FlotillaError,
  PromotionEventType,
  PromotionKind,
  PromotionState,
  TERMINAL_PROMOTION_STATES,
  type Fleet,
  type Release,
  type ReleaseImage,
} from "@flotilla/model";
import { defaultPromotionPolicy } from "@flotilla/envrepo";
import {
  getPromotion,
  getRelease,
  listApprovals,
  listPromotionClusters,
  listPromotions,
  recordApproval,
  recordHold,
  recordPromotionEvent,
  recordRelease,
  updatePromotion,
  updatePromotionCluster,
  type FleetSchema,
  type PromotionRow,
} from "@flotilla/store";
import type { Kysely } from "kysely";
import { createPromotion, environmentOf, lockedRelease, runningApp, type PromotionController } from "./promotion.js";
import { unpinnedImages } from "./promotion/gates.js";
import { countTransition, forgetPromotion } from "./promotion-telemetry.js";

/** Who asks: the authenticated subject and its groups (approval gates may require a group). */
export interface Actor {
  subject: string;
  groups: readonly string[];
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;
const ACTIVE: readonly PromotionState[] = [PromotionState.Running, PromotionState.Verifying, PromotionState.Paused, PromotionState.Halted, PromotionState.Errored];

export interface ReleaseRequest {
  app: string;
  sourceRevision: string;
  images: ReleaseImage[];
  note?: string;
}

export class PromotionOperations {
  constructor(
    private readonly db: Kysely<FleetSchema>,
    private readonly controller: PromotionController,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /**
   * Records a release (the same app, source revision and images give the same id: CI may retry).
   * Entry environments that auto-promote get a promotion of it at once.
   */
  async createRelease(req: ReleaseRequest, actor: Actor): Promise<{ release: Release; created: boolean; promotions: PromotionRow[] }> {
    const { fleet } = await this.controller.fleetAtHead();
    if (!fleet.apps.some((a) => a.name === req.app)) throw notFound(`app ${req.app} is not in flotilla.yaml (apps: ${fleet.apps.map((a) => a.name).join(", ")})`);
    req.images.forEach((img, i) => {
      if (img.digest !== undefined && !DIGEST.test(img.digest)) throw badRequest(`images[${i}].digest`, `"${img.digest}" is not sha256:<64 hex>`);
      if (img.digest === undefined && img.tag === undefined) throw badRequest(`images[${i}]`, "give a digest (or, where digests are not required, a tag)");
    });
    const id = releaseId(req.app, req.sourceRevision, req.images);
    const existing = await getRelease(this.db, id);
    if (existing) return { release: existing, created: false, promotions: [] };
    const release = await recordRelease(this.db, { id, app: req.app, sourceRevision: req.sourceRevision, images: req.images, createdBy: actor.subject, createdAt: this.clock().toISOString(), ...(req.note ? { note: req.note } : {}) });
    const promotions: PromotionRow[] = [];
    for (const env of fleet.environments) {
      const policy = env.promotion;
      if (!policy?.autoPromote || policy.from.length > 0 || runningApp(fleet, req.app, env.name).length === 0) continue;
      if (policy.digestOnly && unpinnedImages(release).length) continue; // never auto-start what must be refused
      promotions.push(await this.newPromotion(fleet, release, env.name, "flotilla/auto-promote", true));
    }
    this.controller.kick();
    return { release, created: true, promotions };
  }

  /** Starts promoting a release into an environment (Pending: gates decide when it runs). */
  async promote(releaseIdValue: string, environment: string, actor: Actor): Promise<PromotionRow> {
    const release = await getRelease(this.db, releaseIdValue);
    if (!release) throw notFound(`release ${releaseIdValue} does not exist; create it with POST /v1/releases`);
    const { fleet } = await this.controller.fleetAtHead();
    const env = environmentOf(fleet, environment);
    const policy = env.promotion ?? defaultPromotionPolicy();
    const unpinned = unpinnedImages(release);
    if (policy.digestOnly && unpinned.length) {
      throw new FlotillaError(ErrorCode.ImageNotPinned, `environment ${environment} takes images by digest only; release ${release.id} names ${unpinned.join(", ")} by tag — build the release with image digests (name@sha256:…)`, {
        location: { field: "images" },
      });
    }
    if (runningApp(fleet, release.app, environment).length === 0) throw badRequest("environment", `no cluster of environment ${environment} runs app ${release.app}`);
    const same = await listPromotions(this.db, { app: release.app, environment, releaseId: release.id, states: [PromotionState.Pending, ...ACTIVE] });
    if (same.length) throw new FlotillaError(ErrorCode.PromotionConflict, `release ${release.id} is already being promoted to ${environment} by ${same[0]!.id} (${same[0]!.state})`);
    const p = await this.newPromotion(fleet, release, environment, actor.subject, false);
    this.controller.kick();
    return p;
  }

  async approve(id: string, actor: Actor, comment?: string): Promise<PromotionRow> {
    const p = await this.pending(id, "approve");
    const { fleet } = await this.controller.fleetAtHead();
    const approvals = (environmentOf(fleet, p.environment).promotion ?? defaultPromotionPolicy()).approvals;
    if (p.requested_by === actor.subject && !approvals.allowSelfApproval) {
      throw new FlotillaError(ErrorCode.SelfApproval, `${actor.subject} requested promotion ${p.id} and may not approve it; another person must (environment ${p.environment} does not allow self-approval)`);
    }
    if (approvals.groups && !actor.groups.some((g) => approvals.groups!.includes(g))) {
      throw new FlotillaError(ErrorCode.Forbidden, `approvals into ${p.environment} must come from ${approvals.groups.join(" or ")}; ${actor.subject} is in ${actor.groups.join(", ") || "no group"}`);
    }
    await recordApproval(this.db, p.id, { subject: actor.subject, groups: [...actor.groups], verdict: "approve", ...(comment ? { comment } : {}), at: this.clock().toISOString() });
    await this.event(p, PromotionEventType.Approved, actor, { ...(comment ? { comment } : {}) });
    this.controller.kick();
    return (await getPromotion(this.db, p.id))!;
  }

  async reject(id: string, actor: Actor, comment?: string): Promise<PromotionRow> {
    const p = await this.pending(id, "reject");
    await recordApproval(this.db, p.id, { subject: actor.subject, groups: [...actor.groups], verdict: "reject", ...(comment ? { comment } : {}), at: this.clock().toISOString() });
    const reason = `rejected by ${actor.subject}${comment ? `: ${comment}` : ""}`;
    const updated = await this.transition(p, [PromotionState.Pending], PromotionState.Rejected, actor, reason);
    await this.event(p, PromotionEventType.Rejected, actor, { ...(comment ? { comment } : {}) });
    return updated;
  }

  async pause(id: string, actor: Actor): Promise<PromotionRow> {
    const p = await this.get(id);
    return this.transition(p, [PromotionState.Pending, PromotionState.Running, PromotionState.Verifying], PromotionState.Paused, actor, `paused by ${actor.subject}`, { pausedFrom: p.state });
  }

  /** Paused → where it was; Halted → Running (halts again if the budget is still breached: skip first). */
  async resume(id: string, actor: Actor): Promise<PromotionRow> {
    const p = await this.get(id);
    const to = p.state === PromotionState.Halted ? PromotionState.Running : (p.paused_from ?? PromotionState.Running);
    const r = await this.transition(p, [PromotionState.Paused, PromotionState.Halted], to, actor, `resumed by ${actor.subject}`, { pausedFrom: null });
    this.controller.kick();
    return r;
  }

  /** Stops for good; what was committed stays (roll back to undo it). */
  async abort(id: string, actor: Actor, reason?: string): Promise<PromotionRow> {
    const p = await this.get(id);
    const from = [PromotionState.Pending, ...ACTIVE];
    return this.transition(p, from, PromotionState.Aborted, actor, `aborted by ${actor.subject}${reason ? `: ${reason}` : ""}`, { finishedAt: this.clock() });
  }

  /** Withdraws a promotion that has not started. */
  async cancel(id: string, actor: Actor): Promise<PromotionRow> {
    const p = await this.get(id);
    return this.transition(p, [PromotionState.Pending], PromotionState.Cancelled, actor, `cancelled by ${actor.subject}`, { finishedAt: this.clock() });
  }

  async retry(id: string, actor: Actor): Promise<PromotionRow> {
    const p = await this.get(id);
    const r = await this.transition(p, [PromotionState.Errored], p.paused_from ?? PromotionState.Pending, actor, `retried by ${actor.subject}`, { attempts: 0, error: null, pausedFrom: null });
    this.controller.kick();
    return r;
  }

  /** Takes a cluster out of a promotion (an offline cluster, say); audited as an event. */
  async skip(id: string, cluster: string, actor: Actor, reason: string): Promise<PromotionRow> {
    const p = await this.get(id);
    if (TERMINAL_PROMOTION_STATES.includes(p.state)) throw stateError(p, "skip a cluster of");
    const row = (await listPromotionClusters(this.db, p.id)).find((c) => c.cluster === cluster);
    if (!row) throw notFound(`cluster ${cluster} is not part of promotion ${p.id}`);
    if (row.outcome === ClusterOutcome.Succeeded || row.outcome === ClusterOutcome.Skipped) {
      throw new FlotillaError(ErrorCode.PromotionState, `cluster ${cluster} is already ${row.outcome} in promotion ${p.id}`);
    }
    await updatePromotionCluster(this.db, p.id, cluster, { outcome: ClusterOutcome.Skipped, skippedBy: actor.subject, message: `skipped by ${actor.subject}: ${reason}` }, this.clock());
    await this.event(p, PromotionEventType.ClusterSkipped, actor, { cluster, from: row.outcome, reason });
    this.controller.kick();
    return (await getPromotion(this.db, p.id))!;
  }

  /**
   * Rolls a promotion back: one commit restoring the lock files its waves changed (the revert of
   * those commits), rolled out as a rollback promotion, and a hold so the release does not
   * auto-promote into the environment again. Refused (409) when a later promotion changed the same
   * locks: roll that one back first.
   */
  async rollback(id: string, actor: Actor, reason?: string): Promise<PromotionRow> {
    const p = await this.get(id);
    if (p.kind === PromotionKind.Rollback) throw new FlotillaError(ErrorCode.PromotionState, `${p.id} is itself a rollback; promote the release again instead`);
    if (p.commits.length === 0) throw new FlotillaError(ErrorCode.PromotionState, `promotion ${p.id} committed nothing (${p.state}); there is nothing to roll back — cancel or abort it`);
    const later = (await listPromotions(this.db, { app: p.app, environment: p.environment, limit: 1000 })).find(
      (q) => q.id !== p.id && q.created_at > p.created_at && q.commits.length > 0 && !(q.kind === PromotionKind.Rollback && q.rollback_of === p.id),
    );
    if (later) {
      throw new FlotillaError(ErrorCode.PromotionConflict, `promotion ${later.id} (${later.release_id}, ${later.state}) changed the same lock files after ${p.id}; roll back ${later.id} first`);
    }
    const already = (await listPromotions(this.db, { app: p.app, environment: p.environment, limit: 1000 })).find((q) => q.rollback_of === p.id && q.state !== PromotionState.Cancelled);
    if (already) throw new FlotillaError(ErrorCode.PromotionConflict, `promotion ${p.id} is already rolled back by ${already.id} (${already.state})`);
    const now = this.clock();
    if (!TERMINAL_PROMOTION_STATES.includes(p.state)) {
      await updatePromotion(this.db, p.id, { state: PromotionState.Aborted, reason: `rolled back by ${actor.subject}`, finishedAt: now }, now);
      countTransition(p.environment, p.state, PromotionState.Aborted);
      forgetPromotion(p.id);
      await this.event(p, PromotionEventType.StateChanged, actor, { from: p.state, to: PromotionState.Aborted, reason: "rolled back" });
    }
    const release = (await getRelease(this.db, p.previous_release_id ?? p.release_id))!;
    const { fleet } = await this.controller.fleetAtHead();
    const r = await createPromotion(this.db, {
      app: p.app,
      environment: p.environment,
      release,
      requestedBy: actor.subject,
      kind: PromotionKind.Rollback,
      rollbackOf: p.id,
      ...(p.previous_release_id ? { previousReleaseId: p.previous_release_id } : {}),
      fleet,
      at: now,
    });
    await recordHold(this.db, { app: p.app, environment: p.environment, releaseId: p.release_id, reason: `rolled back by ${actor.subject} (${r.id})${reason ? `: ${reason}` : ""}`, createdBy: actor.subject, createdAt: now.toISOString() });
    await this.event(p, PromotionEventType.RolledBack, actor, { rollback: r.id, ...(reason ? { reason } : {}) });
    this.controller.kick();
    return r;
  }

  // --- helpers ---------------------------------------------------------------------------

  private async newPromotion(fleet: Fleet, release: Release, environment: string, requestedBy: string, auto: boolean): Promise<PromotionRow> {
    const { view } = await this.controller.fleetAtHead();
    const previous = lockedRelease(view, release.app, environment);
    return createPromotion(this.db, { app: release.app, environment, release, requestedBy, auto, ...(previous ? { previousReleaseId: previous } : {}), fleet, at: this.clock() });
  }

  async get(id: string): Promise<PromotionRow> {
    const p = await getPromotion(this.db, id);
    if (!p) throw notFound(`promotion ${id} does not exist`);
    return p;
  }

  private async pending(id: string, what: string): Promise<PromotionRow> {
    const p = await this.get(id);
    if (p.state !== PromotionState.Pending) throw stateError(p, what);
    return p;
  }

  private async transition(p: PromotionRow, from: readonly PromotionState[], to: PromotionState, actor: Actor, reason: string, extra: Parameters<typeof updatePromotion>[2] = {}): Promise<PromotionRow> {
    if (!from.includes(p.state)) throw stateError(p, `move to ${to}`, from);
    const updated = await updatePromotion(this.db, p.id, { state: to, reason, ...extra }, this.clock(), [...from]);
    if (!updated) throw new FlotillaError(ErrorCode.PromotionState, `promotion ${p.id} changed state meanwhile; read it again and retry`);
    countTransition(p.environment, p.state, to);
    if (TERMINAL_PROMOTION_STATES.includes(to)) forgetPromotion(p.id);
    await this.event(p, PromotionEventType.StateChanged, actor, { from: p.state, to, reason });
    return updated;
  }

  private async event(p: PromotionRow, type: PromotionEventType, actor: Actor, data: Record<string, unknown>): Promise<void> {
    await recordPromotionEvent(this.db, p.id, type, actor.subject, data, this.clock());
  }

  async approvalsOf(id: string) {
    return listApprovals(this.db, id);
  }
}

/** `rel-<app>-<12 hex>`: the same app, source revision and images give the same id. */
export function releaseId(app: string, sourceRevision: string, images: ReleaseImage[]): string {
  const key = JSON.stringify([app, sourceRevision, [...images].sort((a, b) => (a.name < b.name ? -1 : 1)).map((i) => [i.name, i.digest ?? null, i.tag ?? null])]);
  return `rel-${app}-${createHash("sha256").update(key).digest("hex").slice(0, 12)}`;
}

const notFound = (message: string) => new FlotillaError(ErrorCode.NotFound, message);
const badRequest = (field: string, message: string) => new FlotillaError(ErrorCode.BadRequest, `${field}: ${message}`, { location: { field } });
const stateError = (p: PromotionRow, what: string, from?: readonly PromotionState[]) =>
  new FlotillaError(ErrorCode.PromotionState, `cannot ${what} promotion ${p.id}: it is ${p.state}${from ? ` (needs ${from.join(" or ")})` : ""}`);
