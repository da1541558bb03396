// The hub's promotion loop: releases into environments, wave by wave, as Git commits.
//
//   every tick, on the elected leader only, for each open promotion (oldest first):
//   Pending   → a promotion of a newer release of the same app and environment open? Superseded
//             → another promotion of the same app and environment active? wait in the queue
//             → evaluate gates (digests, upstream success + soak, approvals, freeze)
//             → all pass: plan the waves over the environment's clusters, note the branch head
//               (a rollback restores the lock files as they were there) → Running
//   Running   → current wave not committed yet? freeze window open → wait;
//               else commit its clusters' lock files (one commit, trailers naming promotion,
//               release and wave; an already pushed one is found by its trailers, never made
//               twice) → let the resolver publish → note each cluster's new pointer
//             → compute each issued cluster's outcome from reports for that pointer only
//             → failure budget breached or a cluster regressed → Halted (no new pointers, no
//               automatic revert: a person decides)
//             → wave settled, soaked and paused → next wave, or Verifying after the last
//   Verifying → the last wave's soak holds → Succeeded (or SucceededWithExceptions)
//             → environments that auto-promote from here get a promotion of the release
//
// State lives in Postgres, so a restarted (or another, elected) hub carries on where this one
// stopped. A step that throws is retried next tick; after MAX_ATTEMPTS it is Errored until retried.
//
// Fenced (docs/ha.md#the-promotion-fence): the lease is confirmed by a round trip right before the
// wave commit is pushed and before every write to the promotion's rows, and the promotion row is
// written only over the version this step read. A deposed leader's step in flight stops there
// (PromotionFencedError: logged, no attempt counted); the new leader carries the promotion on.
import { randomBytes } from "node:crypto";
import {
  ClusterOutcome,
  ErrorCode,
  FLEET_FILE,
  FlotillaError,
  GateKind,
  GateVerdict,
  PromotionEventType,
  PromotionKind,
  PromotionState,
  clusterLockPath,
  envLockPath,
  toErrorInfo,
  type Cluster,
  type Environment,
  type Fleet,
  type GateResult,
  type PromotionPolicy,
  type Release,
} from "@flotilla/model";
import {
  appsForCluster,
  defaultPromotionPolicy,
  lockFileText,
  parseLockBytes,
  readFleetBytes,
  type CommitView,
  type EnvRepo,
  type EnvRepoWriter,
  type FileChanges,
} from "@flotilla/envrepo";
import {
  clusterReports,
  getPromotion,
  getRelease,
  insertPromotion,
  insertPromotionClusters,
  listApprovals,
  listHolds,
  listOpenPromotions,
  listPromotionClusters,
  listPromotions,
  listReleases,
  recordPromotionEvent,
  recordPromotionEventOnce,
  updatePromotion,
  updatePromotionCluster,
  type FleetSchema,
  type PromotionRow,
  type StoredPlan,
} from "@flotilla/store";
import type { Kysely } from "kysely";
import { allPass, evaluateGates } from "./promotion/gates.js";
import { clusterOutcome } from "./promotion/cluster-outcome.js";
import { budgetBreach, settled, tally } from "./promotion/budget.js";
import { freezeState } from "./promotion/freeze.js";
import { planWaves } from "./promotion/waves.js";
import { supersessions } from "./promotion/supersede.js";
import { commitMessage, parseTrailers, type Trailers } from "./promotion/trailers.js";
import type { LeaderLease } from "./leader.js";
import { PromotionFencedError } from "./promotion-fence.js";
import type { ResolverLogger } from "./resolver.js";
import { countPromotionEvent, tracedPromotionStep } from "./telemetry.js";
import { countTransition, forgetPromotion, noteClusterOutcomes, recordGateWait, recordWaveDuration, tracedWave, tracedWaveStep } from "./promotion-telemetry.js";

/** The actor of what the controller does by itself (auto-promotion, state changes). */
export const CONTROLLER_ACTOR = "flotilla/promotion-controller";
export const MAX_ATTEMPTS = 3;
export const DEFAULT_TICK_MS = 2_000;

const ACTIVE: readonly PromotionState[] = [PromotionState.Running, PromotionState.Verifying, PromotionState.Paused, PromotionState.Halted, PromotionState.Errored];

export interface PromotionControllerOptions {
  db: Kysely<FleetSchema>;
  /** The env repo as the resolver reads it (views of any commit). */
  repo: EnvRepo;
  /** Writes promotion commits; undefined when the env repo cannot be written (promotions are refused). */
  writer: EnvRepoWriter | undefined;
  /** Resolve the branch head now (the resolver's refresh): publishes the pointers of a wave commit. */
  resolve(): Promise<{ revision: string; failed: boolean }>;
  /** The revision the resolver last published completely: the fleet a tick works with (no fetch per tick). */
  lastGoodRevision?(): string | undefined;
  /** The hub's leader role: ticks do nothing on a follower. */
  leader: Pick<LeaderLease, "isLeader">;
  /** May this replica write promotion state right now? A round trip that confirms the lease
   * (Leadership.fence), asked before each push and each write; default `leader.isLeader`. */
  fence?(): Promise<boolean>;
  clock?: () => Date;
  tickMs?: number;
  logger?: ResolverLogger;
}

export interface PromotionController {
  /** One pass over every open promotion (the tick timer calls it; tests call it directly). */
  tick(): Promise<void>;
  /** Run a tick soon (after an API call changed something). */
  kick(): void;
  start(): void;
  stop(): Promise<void>;
  /** The fleet at the last good revision, as the controller sees it. */
  fleetAtHead(): Promise<{ revision: string; view: CommitView; fleet: Fleet }>;
  /** The env repo at any revision (provenance reads lock files as they were). */
  viewAt(revision: string): Promise<CommitView>;
}

const silent: ResolverLogger = { info() {}, warn() {}, error() {} };

export function createPromotionController(opts: PromotionControllerOptions): PromotionController {
  const { db, repo, leader } = opts;
  const clock = opts.clock ?? (() => new Date());
  const log = opts.logger ?? silent;
  const fence = opts.fence ?? (() => leader.isLeader());

  async function tick(): Promise<void> {
    if (!(await leader.isLeader())) return;
    try {
      const open = await supersedeQueued(await listOpenPromotions(db));
      if (open.length === 0 && !(await anyAutoPromotion())) return;
      const head = await fleetAtHead();
      for (const p of open) {
        // A replica that lost the lease stops at once: the leader steps every promotion.
        if ((await tracedPromotionStep(p, () => stepSafely(p, head))) === "fenced") return;
      }
      await autoPromote(head.fleet);
    } catch (err) {
      if (!(err instanceof PromotionFencedError)) throw err;
      logFenced(err);
    }
  }

  function logFenced(err: PromotionFencedError): void {
    log.warn({ promotion: err.promotion, code: err.code, by: err.by, write: err.write }, "promotion step fenced; the leader carries it on");
  }

  /** One step; a failure counts an attempt. A fenced step is no failure: it writes nothing more. */
  async function stepSafely(p: PromotionRow, head: Head): Promise<"done" | "fenced" | "failed"> {
    try {
      await step(p, head);
      if (p.attempts > 0) await update(p, { attempts: 0, error: null }, clock());
      return "done";
    } catch (err) {
      if (err instanceof PromotionFencedError) {
        logFenced(err);
        return err.by === "lease" ? "fenced" : "done";
      }
      const error = toErrorInfo(err, ErrorCode.Internal);
      const attempts = p.attempts + 1;
      log.error({ promotion: p.id, err: error, attempts }, "promotion step failed");
      try {
        if (attempts >= MAX_ATTEMPTS) {
          await setState(p, PromotionState.Errored, `${error.message} (after ${attempts} attempts; retry when fixed)`, { error, attempts, pausedFrom: p.state });
        } else await update(p, { error, attempts }, clock());
      } catch (recording) {
        if (!(recording instanceof PromotionFencedError)) throw recording;
        logFenced(recording);
        return recording.by === "lease" ? "fenced" : "failed";
      }
      return "failed";
    }
  }

  /** Throws PromotionFencedError unless this replica still leads (a round trip to Postgres). */
  async function confirmLease(p: Pick<PromotionRow, "id">, write: string): Promise<void> {
    if (!(await fence())) throw new PromotionFencedError(p.id, "lease", write);
  }

  /**
   * The controller's only write to a promotion row: the lease confirmed first, then written over
   * the version this step read (p.version follows each write), together with the events it
   * causes in one transaction — an event is recorded exactly when its change is. Undefined when
   * the row is not in `expectState` or another writer updated it since.
   */
  async function update(p: PromotionRow, patch: Parameters<typeof updatePromotion>[2], at: Date, o: { expectState?: PromotionState | PromotionState[]; events?: PromotionEvents } = {}): Promise<PromotionRow | undefined> {
    await confirmLease(p, o.events?.length ? `record ${o.events.map((e) => e.type).join(", ")}` : "update the promotion");
    const row = await db.transaction().execute(async (trx) => {
      const updated = await updatePromotion(trx, p.id, patch, at, o.expectState, p.version);
      if (updated) for (const e of o.events ?? []) await recordPromotionEvent(trx, p.id, e.type, CONTROLLER_ACTOR, e.data, at);
      return updated;
    });
    if (!row) return undefined;
    p.version = row.version;
    for (const e of o.events ?? []) countPromotionEvent(e.type, p.environment);
    return row;
  }

  async function step(p: PromotionRow, head: Head): Promise<void> {
    switch (p.state) {
      case PromotionState.Pending:
        return startIfGatesPass(p, head);
      case PromotionState.Running:
      case PromotionState.Verifying:
        return runWave(p, head);
      default:
        return; // Paused, Halted, Errored: a person decides (resume, abort, retry, rollback).
    }
  }

  // --- Pending → Superseded ---------------------------------------------------------------

  /** Queued promotions of an older release give way to the newest one (promotion/supersede.ts); returns the rest. */
  async function supersedeQueued(open: PromotionRow[]): Promise<PromotionRow[]> {
    const queues = new Set(open.filter((p) => p.kind === PromotionKind.Promote).map((p) => `${p.app}\u0000${p.environment}`));
    if (queues.size === open.filter((p) => p.kind === PromotionKind.Promote).length) return open; // no queue holds two
    const created = new Map<string, string>();
    for (const id of new Set(open.map((p) => p.release_id))) created.set(id, (await releaseOf(open.find((p) => p.release_id === id)!)).createdAt);
    const entries = open.map((p) => ({ id: p.id, app: p.app, environment: p.environment, kind: p.kind, state: p.state, pausedFrom: p.paused_from, committed: p.commits.length > 0 || p.base_revision !== null, releaseId: p.release_id, releaseCreatedAt: created.get(p.release_id)! }));
    const gone = new Set<string>();
    for (const s of supersessions(entries)) {
      const p = open.find((q) => q.id === s.id)!;
      const reason = `superseded by ${s.by}: release ${s.byRelease} is newer than ${p.release_id}, and the queue of ${p.app} in ${p.environment} runs only the newest release`;
      if (await setState(p, PromotionState.Superseded, reason, { supersededBy: s.by }, { supersededBy: s.by })) gone.add(p.id);
    }
    return open.filter((p) => !gone.has(p.id));
  }

  // --- Pending → Running -----------------------------------------------------------------

  async function startIfGatesPass(p: PromotionRow, head: Head): Promise<void> {
    const queue = await listPromotions(db, { app: p.app, environment: p.environment, states: [...ACTIVE] });
    const ahead = queue.find((q) => q.id !== p.id);
    if (ahead) return saveGates(p, [{ gate: GateKind.Hold, verdict: GateVerdict.Pending, message: `queued behind ${ahead.id} (${ahead.state})` }]);

    const env = environmentOf(head.fleet, p.environment);
    const policy = env.promotion ?? defaultPromotionPolicy();
    const release = await releaseOf(p);
    const gates = await gatesOf(p, policy, release);
    await saveGates(p, gates);
    const failed = gates.find((g) => g.verdict === GateVerdict.Fail);
    if (failed) return void (await setState(p, PromotionState.Rejected, `gate ${failed.gate}: ${failed.message}`));
    if (!allPass(gates)) return;

    const plan = p.kind === PromotionKind.Rollback ? await rollbackPlan(p, policy) : forwardPlan(head.fleet, p.app, p.environment, policy);
    if (plan.waves.length === 0) {
      return void (await setState(p, PromotionState.Errored, `no cluster of environment ${p.environment} runs app ${p.app}; nothing to promote`, { pausedFrom: PromotionState.Pending }));
    }
    const now = clock();
    await confirmLease(p, "plan the waves");
    await insertPromotionClusters(db, p.id, plan.waves, now);
    const started = await update(p, { state: PromotionState.Running, plan, baseRevision: head.revision, currentWave: 0, waveSettledAt: null }, now, {
      expectState: PromotionState.Pending,
      events: [{ type: PromotionEventType.StateChanged, data: { from: p.state, to: PromotionState.Running, waves: plan.waves.map((w) => ({ name: w.name, clusters: w.clusters })) } }],
    });
    if (!started) return;
    countTransition(p.environment, p.state, PromotionState.Running);
    recordGateWait(p.environment, p.created_at, now);
  }

  async function gatesOf(p: PromotionRow, policy: PromotionPolicy, release: Release): Promise<GateResult[]> {
    const upstream = await Promise.all(
      policy.from.map(async (environment) => {
        const done = await listPromotions(db, { app: p.app, environment, releaseId: release.id, states: [PromotionState.Succeeded, PromotionState.SucceededWithExceptions] });
        const at = done.map((d) => d.finished_at).filter((d): d is Date => !!d).sort((a, b) => a.getTime() - b.getTime())[0];
        return { environment, succeededAt: at };
      }),
    );
    const approvals = (await listApprovals(db, p.id)).filter((a) => a.verdict === "approve");
    return evaluateGates({ policy, release, requestedBy: p.requested_by, rollback: p.kind === PromotionKind.Rollback, upstream, approvals, now: clock() });
  }

  // --- Running: one wave at a time -------------------------------------------------------

  async function runWave(p: PromotionRow, head: Head): Promise<void> {
    const plan = p.plan;
    const k = p.current_wave;
    const wave = plan.waves[k]!;
    const policy = environmentOf(head.fleet, p.environment).promotion ?? defaultPromotionPolicy();

    // 1. Start the wave: its commit, then its pointers.
    if (!p.commits.some((c) => c.wave === k)) {
      const freeze = freezeState(policy.freeze, clock(), p.kind === PromotionKind.Rollback);
      if (freeze.blocked) {
        const name = freeze.window?.name ? ` "${freeze.window.name}"` : "";
        return saveGates(p, [{ gate: GateKind.Freeze, verdict: GateVerdict.Pending, message: `wave ${k + 1} waits: freeze window${name}`, ...(freeze.until ? { until: freeze.until } : {}) }]);
      }
      return tracedWave(p, k, plan.waves.length, async (span) => {
        // Once per wave, however often its start is redone (a retry, another replica carrying on).
        await eventOnce(p, PromotionEventType.WaveStarted, { wave: k + 1, of: plan.waves.length, name: wave.name, clusters: wave.clusters }, { wave: k + 1 });
        const revision = await tracedWaveStep("promotion commit", () => commitWave(p, k, head));
        span.setAttribute("flotilla.revision", revision);
        const commits = [...p.commits, { wave: k, revision, at: clock().toISOString() }];
        const noted = await update(p, { commits, gates: [] }, clock(), { events: [{ type: PromotionEventType.WaveCommitted, data: { wave: k + 1, revision } }] });
        // Another writer got there first: whoever reads the row next finds this commit by its trailers.
        if (!noted) throw new PromotionFencedError(p.id, "version", `record wave ${k + 1} commit`);
        p.commits = commits;
        await tracedWaveStep("promotion pointers", async () => {
          const resolved = await opts.resolve();
          if (resolved.failed) throw new FlotillaError(ErrorCode.RenderFailed, `wave ${k + 1} commit ${revision.slice(0, 12)} did not render; see GET /v1/render-failures`);
          await notePointers(p, wave.clusters, revision);
        });
      });
    }

    // 2. Outcomes of every issued cluster (earlier waves too: a regression there halts as well).
    const rows = await listPromotionClusters(db, p.id);
    const issued = rows.filter((r) => r.wave <= k);
    const reports = await clusterReports(db, issued.map((r) => r.cluster));
    const now = clock();
    let confirmed = false;
    for (const r of issued) {
      if (r.generation === null || r.bundle_digest === null || r.issued_at === null) continue;
      const report = reports.get(r.cluster);
      const next = clusterOutcome({
        previous: r.outcome,
        healthySince: r.healthy_since ?? undefined,
        expected: { generation: Number(r.generation), bundleDigest: r.bundle_digest, issuedAt: r.issued_at },
        status: report?.status,
        lastSeenAt: report?.lastSeenAt,
        now,
        progressDeadlineMs: plan.progressDeadlineMs,
        minHealthyMs: plan.minHealthyMs,
        unknownAfterMs: plan.unknownAfterMs,
      });
      const healthyChanged = (next.healthySince?.getTime() ?? null) !== (r.healthy_since?.getTime() ?? null);
      if ((next.outcome !== r.outcome || healthyChanged) && !confirmed) {
        await confirmLease(p, "record cluster outcomes");
        confirmed = true;
      }
      if (next.outcome !== r.outcome || healthyChanged) {
        await updatePromotionCluster(db, p.id, r.cluster, { outcome: next.outcome, message: next.message, healthySince: next.healthySince ?? null }, now);
      }
      if (next.outcome !== r.outcome) {
        await event(p, PromotionEventType.ClusterChanged, { cluster: r.cluster, wave: r.wave + 1, from: r.outcome, to: next.outcome, message: next.message }, { confirmed: true });
      }
      r.outcome = next.outcome;
    }

    noteClusterOutcomes(p.id, p.environment, rows.map((r) => (r.wave <= k ? r.outcome : ClusterOutcome.Pending)));

    // 3. Budgets: the wave's own, the promotion's total, and no regression anywhere.
    const waveTally = tally(issued.filter((r) => r.wave === k).map((r) => r.outcome));
    const all = tally(issued.map((r) => r.outcome));
    const breach = budgetBreach({ wave: { ...waveTally, regressed: all.regressed }, waveBudget: wave.failureBudget, totalFailed: all.failed, totalBudget: plan.totalFailureBudget });
    const committedAt = p.commits.find((c) => c.wave === k)?.at;
    if (breach) recordWaveDuration(p.environment, "halted", committedAt, now);
    if (breach) return void (await setState(p, PromotionState.Halted, `wave ${k + 1} (${wave.name}): ${breach}; no further wave starts — resume, roll back or abort`));

    // 4. Settled, soaked, paused: the next wave, or done.
    if (!settled(waveTally)) {
      if (p.wave_settled_at) await update(p, { waveSettledAt: null }, now);
      return;
    }
    const last = k === plan.waves.length - 1;
    if (!p.wave_settled_at) {
      const events: PromotionEvents = [{ type: PromotionEventType.WaveSucceeded, data: { wave: k + 1, name: wave.name, ...waveTally } }];
      if (last) events.push({ type: PromotionEventType.StateChanged, data: { from: p.state, to: PromotionState.Verifying } });
      if (!(await update(p, { waveSettledAt: now, ...(last ? { state: PromotionState.Verifying } : {}) }, now, { events }))) return;
      recordWaveDuration(p.environment, "settled", committedAt, now);
      if (last) countTransition(p.environment, p.state, PromotionState.Verifying);
      return;
    }
    const waitMs = wave.soakMs + (last ? 0 : wave.pauseMs);
    if (now.getTime() - p.wave_settled_at.getTime() < waitMs) return;
    if (!last) return void (await update(p, { currentWave: k + 1, waveSettledAt: null }, now));
    const exceptions = all.failed + all.skipped > 0;
    await setState(p, exceptions ? PromotionState.SucceededWithExceptions : PromotionState.Succeeded, exceptions ? `${all.failed} failed and ${all.skipped} skipped cluster(s) within budget` : null, { finishedAt: now });
  }

  /** The wave's commit: found by its trailers when already pushed, else made now. */
  async function commitWave(p: PromotionRow, k: number, head: Head): Promise<string> {
    const writer = opts.writer;
    if (!writer) throw new FlotillaError(ErrorCode.ConfigInvalid, "the env repo cannot be written (a local repository with a work tree): promotions need an http(s) remote or a bare repository");
    const n = p.plan.waves.length;
    const trailers: Trailers = { Promotion: p.id, Release: p.release_id, Wave: `${k + 1}/${n}` };
    const approvers = (await listApprovals(db, p.id)).filter((a) => a.verdict === "approve").map((a) => a.subject);
    if (approvers.length) trailers.ApprovedBy = approvers.join(", ");
    if (p.rollback_of) trailers.RollbackOf = p.rollback_of;
    const existing = await writer.findCommit((message) => {
      const t = parseTrailers(message);
      return t.Promotion === p.id && t.Wave === trailers.Wave;
    });
    if (existing) {
      log.info({ promotion: p.id, wave: k + 1, revision: existing }, "wave commit already pushed (found by its trailers); not committing again");
      return existing;
    }
    const wave = p.plan.waves[k]!;
    const release = await releaseOf(p);
    let changes: FileChanges;
    let subject: string;
    let body: string;
    if (p.kind === PromotionKind.Rollback) {
      const original = (await getPromotion(db, p.rollback_of!))!;
      changes = await restoredLocks(original, head);
      subject = `Revert promotion ${original.id} of ${p.app} to ${p.environment}`;
      body = `This reverts the lock files of commit(s) ${original.commits.map((c) => c.revision.slice(0, 12)).join(", ")}, restoring ${p.previous_release_id ?? "no release lock"}.`;
    } else {
      changes = {};
      const lock = { apiVersion: "flotilla.dev/v1alpha1" as const, kind: "ReleaseLock" as const, app: p.app, environment: p.environment, release: release.id, sourceRevision: release.sourceRevision, images: release.images, promotion: p.id };
      for (const cluster of wave.clusters) changes[clusterLockPath(p.app, p.environment, cluster)] = lockFileText({ ...lock, cluster });
      // The last wave also pins the environment: a cluster added later starts on this release.
      if (k === n - 1) changes[envLockPath(p.app, p.environment)] = lockFileText(lock);
      subject = `Promote ${p.app} ${release.id} to ${p.environment}: wave ${k + 1}/${n} (${wave.name})`;
      body = `Clusters: ${wave.clusters.join(", ")}.\nImages: ${release.images.map((i) => `${i.name}${i.digest ? `@${i.digest}` : `:${i.tag}`}`).join(", ")}.`;
    }
    // The fence at the push: a replica deposed while it built this commit pushes nothing.
    const beforePush = () => confirmLease(p, `push wave ${k + 1} commit`);
    const revision = await writer.commit(changes, commitMessage(subject, body, trailers), { name: p.requested_by, email: `${p.requested_by.replace(/[^A-Za-z0-9._-]/g, "-")}@flotilla.invalid` }, beforePush);
    log.info({ promotion: p.id, wave: k + 1, revision }, "pushed wave commit");
    return revision;
  }

  /** The lock files a promotion wrote, as they were at its base revision (absent → deleted). */
  async function restoredLocks(original: PromotionRow, _head: Head): Promise<FileChanges> {
    if (!original.base_revision) throw new FlotillaError(ErrorCode.PromotionState, `promotion ${original.id} never started; there is nothing to roll back`);
    const base = await repo.view(original.base_revision);
    const touched = new Set<string>();
    original.plan.waves.forEach((w, i) => {
      if (!original.commits.some((c) => c.wave === i)) return;
      for (const c of w.clusters) touched.add(clusterLockPath(original.app, original.environment, c));
      if (i === original.plan.waves.length - 1) touched.add(envLockPath(original.app, original.environment));
    });
    const changes: FileChanges = {};
    for (const path of touched) changes[path] = base.readFile(path) ?? null;
    return changes;
  }

  /** After the resolver ran: each cluster's current pointer is what this promotion waits on. */
  async function notePointers(p: PromotionRow, clusters: string[], revision: string): Promise<void> {
    const reports = await clusterReports(db, clusters);
    const now = clock();
    const issued: { cluster: string; generation: number }[] = [];
    await confirmLease(p, "record issued pointers");
    for (const cluster of clusters) {
      const pointer = reports.get(cluster)?.pointer;
      if (!pointer) throw new FlotillaError(ErrorCode.Internal, `cluster ${cluster} has no desired pointer after commit ${revision.slice(0, 12)}`);
      await updatePromotionCluster(db, p.id, cluster, { outcome: ClusterOutcome.Issued, generation: pointer.generation, bundleDigest: pointer.bundleDigest, issuedAt: pointer.issuedAt, message: `pointer generation ${pointer.generation}` }, now);
      issued.push({ cluster, generation: pointer.generation });
    }
    await event(p, PromotionEventType.PointersIssued, { wave: p.current_wave + 1, revision, pointers: issued }, { confirmed: true });
  }

  // --- plans -------------------------------------------------------------------------------

  function forwardPlan(fleet: Fleet, app: string, environment: string, policy: PromotionPolicy): StoredPlan {
    const clusters = runningApp(fleet, app, environment);
    const waves = planWaves(clusters, policy.rollout.waves);
    const { progressDeadlineMs, minHealthyMs, unknownAfterMs } = policy.rollout;
    const totalFailureBudget = policy.rollout.totalFailureBudget ?? waves.reduce((n, w) => n + w.failureBudget, 0);
    return { waves, totalFailureBudget, progressDeadlineMs, minHealthyMs, unknownAfterMs };
  }

  /** A rollback reaches every cluster the original promotion committed for, in one wave. */
  async function rollbackPlan(p: PromotionRow, policy: PromotionPolicy): Promise<StoredPlan> {
    const original = (await getPromotion(db, p.rollback_of!))!;
    const clusters = original.plan.waves.filter((_, i) => original.commits.some((c) => c.wave === i)).flatMap((w) => w.clusters);
    const { progressDeadlineMs, minHealthyMs, unknownAfterMs } = policy.rollout;
    return { waves: [{ name: "rollback", clusters, failureBudget: clusters.length, soakMs: 0, pauseMs: 0 }], totalFailureBudget: clusters.length, progressDeadlineMs, minHealthyMs, unknownAfterMs };
  }

  // --- auto-promotion ------------------------------------------------------------------------

  async function anyAutoPromotion(): Promise<boolean> {
    return (await fleetAtHead()).fleet.environments.some((e) => e.promotion?.autoPromote && e.promotion.from.length > 0);
  }

  /** Environments with autoPromote get a promotion of each release that succeeded upstream (not held, not promoted there yet). */
  async function autoPromote(fleet: Fleet): Promise<void> {
    for (const env of fleet.environments) {
      const policy = env.promotion;
      if (!policy?.autoPromote || policy.from.length === 0) continue;
      const holds = await listHolds(db, { environment: env.name });
      const done = await listPromotions(db, { environment: policy.from[0]!, states: [PromotionState.Succeeded, PromotionState.SucceededWithExceptions], limit: 20 });
      for (const up of done) {
        if (up.kind !== PromotionKind.Promote) continue;
        if (holds.some((h) => h.app === up.app && h.releaseId === up.release_id)) continue;
        if (!runningApp(fleet, up.app, env.name).length) continue;
        if ((await listPromotions(db, { app: up.app, environment: env.name, releaseId: up.release_id, limit: 1 })).length) continue;
        // Only the newest release of an app goes on: an older one that succeeded later is not rolled out over it.
        const newest = (await listReleases(db, up.app, 1))[0];
        if (newest && newest.id !== up.release_id && (await listPromotions(db, { app: up.app, environment: env.name, releaseId: newest.id, limit: 1 })).length) continue;
        await confirmLease({ id: `auto:${up.app}:${env.name}` }, "create an auto-promotion");
        await createPromotion(db, { app: up.app, environment: env.name, release: (await getRelease(db, up.release_id))!, requestedBy: CONTROLLER_ACTOR, auto: true, fleet, at: clock() });
        log.info({ app: up.app, environment: env.name, release: up.release_id }, "auto-promotion created");
      }
    }
  }

  // --- small helpers -----------------------------------------------------------------------

  async function releaseOf(p: PromotionRow): Promise<Release> {
    const r = await getRelease(db, p.release_id);
    if (!r) throw new FlotillaError(ErrorCode.NotFound, `release ${p.release_id} of promotion ${p.id} is missing`);
    return r;
  }

  async function saveGates(p: PromotionRow, gates: GateResult[]): Promise<void> {
    if (JSON.stringify(gates) === JSON.stringify(p.gates)) return;
    if (await update(p, { gates }, clock(), { events: [{ type: PromotionEventType.GateChanged, data: { gates } }] })) p.gates = gates;
  }

  async function setState(p: PromotionRow, to: PromotionState, reason: string | null, extra: Parameters<typeof updatePromotion>[2] = {}, eventData: Record<string, unknown> = {}): Promise<boolean> {
    const now = clock();
    const data = { from: p.state, to, ...(reason ? { reason } : {}), ...eventData };
    const updated = await update(p, { state: to, reason, ...extra, ...(isTerminal(to) ? { finishedAt: now } : {}) }, now, { expectState: p.state, events: [{ type: PromotionEventType.StateChanged, data }] });
    if (!updated) return false;
    countTransition(p.environment, p.state, to);
    if (isTerminal(to)) forgetPromotion(p.id);
    return true;
  }

  /** An event recorded once per promotion and key, after confirming the lease. */
  async function eventOnce(p: PromotionRow, type: PromotionEventType, data: Record<string, unknown>, key: Record<string, unknown>): Promise<void> {
    await confirmLease(p, `record ${type}`);
    if (await recordPromotionEventOnce(db, p.id, type, CONTROLLER_ACTOR, data, clock(), key)) countPromotionEvent(type, p.environment);
  }

  /** An event after confirming the lease (`confirmed`: the caller just did, for this group of writes). */
  async function event(p: PromotionRow, type: PromotionEventType, data: Record<string, unknown>, o: { confirmed?: boolean } = {}): Promise<void> {
    if (!o.confirmed) await confirmLease(p, `record ${type}`);
    await recordPromotionEvent(db, p.id, type, CONTROLLER_ACTOR, data, clock());
    countPromotionEvent(type, p.environment);
  }

  async function fleetAtHead(): Promise<Head> {
    const revision = opts.lastGoodRevision?.() ?? (await opts.resolve()).revision;
    const view = await repo.view(revision);
    const bytes = view.readFile(FLEET_FILE);
    const fleet = bytes ? readFleetBytes(bytes) : undefined;
    if (!fleet?.ok) throw new FlotillaError(ErrorCode.FleetFileInvalid, `${FLEET_FILE} at ${revision.slice(0, 12)} does not parse; promotions wait for a good fleet file`);
    return { revision, view, fleet: fleet.fleet };
  }

  // --- timer -------------------------------------------------------------------------------
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = true;
  const run = (): void => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = tick()
      .catch((err: unknown) => log.warn({ err: toErrorInfo(err, ErrorCode.Internal) }, "promotion tick failed"))
      .finally(() => {
        running = undefined;
        if (again) {
          again = false;
          run();
        }
      });
  };
  const schedule = (): void => {
    if (stopped) return;
    timer = setTimeout(() => {
      run();
      schedule();
    }, opts.tickMs ?? DEFAULT_TICK_MS);
    timer.unref?.();
  };

  return {
    tick,
    kick: run,
    fleetAtHead,
    viewAt: (revision) => repo.view(revision),
    start() {
      if (!stopped) return;
      stopped = false;
      schedule();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}

/** Events recorded in the transaction of the change they report. */
type PromotionEvents = { type: PromotionEventType; data: Record<string, unknown> }[];

interface Head {
  revision: string;
  view: CommitView;
  fleet: Fleet;
}

const isTerminal = (s: PromotionState) =>
  s === PromotionState.Succeeded ||
  s === PromotionState.SucceededWithExceptions ||
  s === PromotionState.Aborted ||
  s === PromotionState.Rejected ||
  s === PromotionState.Cancelled ||
  s === PromotionState.Superseded;

export function environmentOf(fleet: Fleet, name: string): Environment {
  const env = fleet.environments.find((e) => e.name === name);
  if (!env) throw new FlotillaError(ErrorCode.NotFound, `environment ${name} is not in ${FLEET_FILE} (environments: ${fleet.environments.map((e) => e.name).join(", ")})`);
  return env;
}

/** The clusters of an environment that run an app. */
export function runningApp(fleet: Fleet, app: string, environment: string): Cluster[] {
  return fleet.clusters.filter((c) => c.environment === environment && appsForCluster(fleet, c).some((a) => a.name === app));
}

/** The release an environment's lock pins for an app at a revision, if any. */
export function lockedRelease(view: CommitView, app: string, environment: string): string | undefined {
  const path = envLockPath(app, environment);
  const bytes = view.readFile(path);
  if (!bytes) return undefined;
  const r = parseLockBytes(bytes, path);
  return r.ok ? r.lock.release : undefined;
}

export const newPromotionId = (): string => `prm-${new Date().toISOString().slice(0, 10).replaceAll("-", "")}-${randomBytes(4).toString("hex")}`;

export interface CreatePromotionInput {
  app: string;
  environment: string;
  release: Release;
  requestedBy: string;
  auto?: boolean;
  kind?: PromotionKind;
  rollbackOf?: string;
  previousReleaseId?: string;
  fleet: Fleet;
  at: Date;
}

/** Records a new promotion (Pending) and its created event. */
export async function createPromotion(db: Kysely<FleetSchema>, i: CreatePromotionInput): Promise<PromotionRow> {
  const row = await insertPromotion(db, {
    id: newPromotionId(),
    app: i.app,
    environment: i.environment,
    releaseId: i.release.id,
    kind: i.kind ?? PromotionKind.Promote,
    ...(i.rollbackOf ? { rollbackOf: i.rollbackOf } : {}),
    requestedBy: i.requestedBy,
    auto: i.auto ?? false,
    plan: { waves: [], totalFailureBudget: 0, progressDeadlineMs: 0, minHealthyMs: 0, unknownAfterMs: 0 },
    ...(i.previousReleaseId ? { previousReleaseId: i.previousReleaseId } : {}),
    at: i.at,
  });
  await recordPromotionEvent(db, row.id, PromotionEventType.Created, i.requestedBy, { app: i.app, environment: i.environment, release: i.release.id, kind: row.kind, ...(i.rollbackOf ? { rollbackOf: i.rollbackOf } : {}) }, i.at);
  return row;
}
