// The agent's reconcile loop, top to bottom:
//
//   desired state arrives (verified pointer + bundle, or the cached one at start)
//   → report Applying
//   → per app: staged server-side apply (zero writes for unchanged objects) → prune what left
//     the bundle (by the app's inventory in the cluster) → write the inventory
//   → watch every kind applied (label-selected to this cluster's objects)
//   → report status: sync state, observed revision, per-object health and images
//   → on every watch event: recompute health (status when it changes) and compare the live
//     object with what we applied; a difference in a field we declare is drift: record it with
//     the actor from managedFields and, by policy, revert it (backing off when it is a fight)
//   → a full reconcile again every resync interval, and at once on a newer desired state.
//
// Failures are state: each object's failure is in its change-set entry and the status; only a
// stop() ends the loop.
import type { ChangeSetEntry, KubeClient, ResourceManager, WatchEvent } from "@flotilla/kube";
import { diffLive, driftActor, inventoryFromChangeSet, maskObject } from "@flotilla/kube";
import { computeHealth } from "@flotilla/health";
import {
  ChangeAction,
  DriftAction,
  DriftPolicy,
  ErrorCode,
  describeRef,
  refKey,
  refOf,
  toErrorInfo,
  type BundleApp,
  type DriftPath,
  type ErrorInfo,
  type KubeObject,
} from "@flotilla/model";
import { FightGuard, defaultFightGuardOptions, type FightGuardOptions } from "./fight-guard.js";
import { LiveObjects, type WatchedKind } from "./live-objects.js";
import { startHeartbeats, type HeartbeatTimer } from "./nats-heartbeats.js";
import type { DesiredStateSource, Refusal, Reporter, StatusBody, VerifiedDesired } from "./ports.js";
import { buildStatus, type AppResult } from "./status-builder.js";

export interface AgentLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** Decides whether a break-glass window covers an object (see break-glass.ts). */
export interface BreakGlassView {
  covers(app: string, key: string): boolean;
}

export interface ReconcilerOptions {
  cluster: string;
  source: DesiredStateSource;
  reporter: Reporter;
  client: KubeClient;
  manager: ResourceManager;
  /** Tenant agent: the namespaces it may watch and apply in. */
  namespaces?: string[];
  breakGlass?: BreakGlassView;
  heartbeatIntervalMs?: number;
  /** Full reconcile this often even without a new desired state (default 5 min). */
  resyncIntervalMs?: number;
  /** Wait this long after a status-relevant event before reporting (coalesces bursts). */
  statusDebounceMs?: number;
  fightGuard?: Partial<FightGuardOptions>;
  logger?: AgentLogger;
}

interface Applied {
  app: BundleApp;
  desired: KubeObject;
  /** The object as the server returned it after our apply: the baseline for drift. */
  baseline: KubeObject | undefined;
}

const silent: AgentLogger = { info() {}, warn() {}, error() {} };

export class Reconciler {
  private readonly log: AgentLogger;
  private readonly live: LiveObjects;
  private readonly fights: FightGuard;
  private readonly applied = new Map<string, Applied>();
  /** Last reported drift per object (paths + live values), so an unreverted drift is reported once. */
  private readonly reportedDrift = new Map<string, string>();
  private readonly pendingReverts = new Map<string, NodeJS.Timeout>();
  /** Objects whose revert is being written: their events until it lands are the same drift. */
  private readonly reverting = new Set<string>();
  private current: VerifiedDesired | undefined;
  private results: AppResult[] = [];
  private observedRevision: string | undefined;
  private lastError: ErrorInfo | undefined;
  private applying = false;
  private stopped = false;
  private loop: Promise<void> = Promise.resolve();
  private queued: VerifiedDesired | undefined;
  private statusTimer: NodeJS.Timeout | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private heartbeats: HeartbeatTimer | undefined;
  private lastStatusJson = "";
  /** Counters for tests, benchmarks and metrics. */
  readonly counters = { reconciles: 0, drifts: 0, reverts: 0, refusals: 0 };

  constructor(private readonly opts: ReconcilerOptions) {
    this.log = opts.logger ?? silent;
    this.fights = new FightGuard({ ...defaultFightGuardOptions(), ...opts.fightGuard });
    this.live = new LiveObjects(
      opts.client,
      opts.cluster,
      (event, key) => this.onWatchEvent(event, key),
      (err, kind) => this.log.warn({ err: err.message, kind: kind.kind }, "watch error; restarting with backoff"),
    );
  }

  /** The desired state being enforced (undefined before the first one). */
  get desired(): VerifiedDesired | undefined {
    return this.current;
  }

  async start(): Promise<void> {
    this.heartbeats = startHeartbeats(this.opts.reporter, {
      intervalMs: this.opts.heartbeatIntervalMs ?? 10_000,
      generation: () => this.current?.pointer.generation ?? 0,
    });
    await this.opts.source.start({
      onDesired: (d) => this.enqueue(d),
      onRefused: (r) => this.onRefused(r),
    });
    this.scheduleResync();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.heartbeats?.stop();
    if (this.statusTimer) clearTimeout(this.statusTimer);
    if (this.resyncTimer) clearTimeout(this.resyncTimer);
    for (const t of this.pendingReverts.values()) clearTimeout(t);
    await this.opts.source.stop();
    await this.loop.catch(() => undefined);
    await this.live.stop();
  }

  /** Resolves when the reconcile queue is empty (tests and the CLI's --once). */
  async idle(): Promise<void> {
    let before: Promise<void>;
    do {
      before = this.loop;
      await before.catch(() => undefined);
    } while (before !== this.loop);
  }

  // --- desired state ------------------------------------------------------------------------------

  /** A newer desired state replaces any queued one: only the latest is worth applying. */
  private enqueue(d: VerifiedDesired): void {
    if (this.stopped) return;
    const pending = this.queued;
    this.queued = d;
    if (pending) return; // a reconcile is already scheduled and will pick up the latest
    this.loop = this.loop.then(async () => {
      const next = this.queued;
      this.queued = undefined;
      if (next && !this.stopped) await this.reconcile(next);
    });
  }

  private onRefused(r: Refusal): void {
    this.counters.refusals++;
    this.lastError = r.error;
    this.log.warn({ error: r.error, generation: r.pointer?.generation }, "refused desired state");
    if (this.current) this.scheduleStatus(0);
  }

  // --- the full reconcile -------------------------------------------------------------------------

  private async reconcile(d: VerifiedDesired): Promise<void> {
    const isNewRevision = this.current?.pointer.generation !== d.pointer.generation;
    this.current = d;
    this.counters.reconciles++;
    if (isNewRevision) {
      // A refusal of an older pointer says nothing about this one.
      this.lastError = undefined;
      this.reportedDrift.clear();
    }
    // 1. Say we are applying, so the hub never mistakes old status for the new generation.
    this.applying = true;
    if (isNewRevision) this.reportStatusNow();

    // 2. Apply each app, prune what left it, remember what we applied.
    const owner = (app: string) => ({ app, cluster: this.opts.cluster });
    const results: AppResult[] = [];
    const nextApplied = new Map<string, Applied>();
    let failure: ErrorInfo | undefined;
    try {
      for (const app of d.bundle.apps) {
        const changes = await this.opts.manager.applyAll(app.objects, { owner: owner(app.name), ...this.defaultNamespace() });
        const entries: ChangeSetEntry[] = [...changes.entries];
        const previous = await this.opts.manager.readInventory(app.name);
        const current = inventoryFromChangeSet(changes);
        let inventory = current;
        if (previous.ok && app.policy.prune) {
          const pruned = await this.opts.manager.prune(previous.value, current, { owner: owner(app.name) });
          entries.push(...pruned.changeSet.entries);
          inventory = mergeInventories(current, pruned.retained);
        } else if (previous.ok) {
          inventory = mergeInventories(previous.value, current); // keep tracking what we no longer apply
        }
        const written = await this.opts.manager.writeInventory(app.name, inventory);
        if (!written.ok) failure ??= { code: ErrorCode.ApplyFailed, message: `inventory of app ${app.name}: ${written.failure.message}` };
        for (const e of changes.entries) {
          const desired = app.objects.find((o) => refKey(refOf(o)) === refKey(e.ref));
          if (desired && e.action !== ChangeAction.Skipped) nextApplied.set(refKey(e.ref), { app, desired, baseline: e.applied });
          if (e.applied) this.live.remember(e.applied);
        }
        results.push({ name: app.name, entries });
      }
      // Apps that left the bundle keep their inventories; pruning them is the next apply's job
      // for apps still present. (Whole-app removal prunes through an empty app in the bundle.)
    } catch (err) {
      failure = toErrorInfo(err, ErrorCode.ApplyFailed);
      this.log.error({ error: failure }, "reconcile failed");
    }
    this.applied.clear();
    for (const [k, v] of nextApplied) this.applied.set(k, v);
    this.results = results;
    const allApplied = !failure && results.every((r) => r.entries.every((e) => e.action !== ChangeAction.Failed));
    if (allApplied) this.observedRevision = d.pointer.revision;
    if (failure) this.lastError = failure;

    // 3. Watch what we applied; the watch's first list also catches drift made while we applied.
    await this.live.watchOnly(this.watchedKinds());
    this.applying = false;
    this.reportStatusNow();
    this.log.info({ revision: d.pointer.revision, generation: d.pointer.generation, apps: results.map((r) => r.name) }, "reconciled");

    // 4. Anything that drifted while we were applying is handled now.
    for (const key of this.applied.keys()) this.checkDrift(key);
  }

  private defaultNamespace(): { defaultNamespace?: string } {
    const ns = this.opts.namespaces;
    return ns && ns.length === 1 ? { defaultNamespace: ns[0]! } : {};
  }

  private watchedKinds(): WatchedKind[] {
    const kinds = new Map<string, WatchedKind>();
    for (const { desired } of this.applied.values()) {
      const namespaces = this.opts.namespaces;
      if (namespaces) {
        const ns = desired.metadata.namespace ?? namespaces[0];
        kinds.set(`${desired.apiVersion}|${desired.kind}|${ns}`, { apiVersion: desired.apiVersion, kind: desired.kind, ...(ns ? { namespace: ns } : {}) });
      } else {
        kinds.set(`${desired.apiVersion}|${desired.kind}`, { apiVersion: desired.apiVersion, kind: desired.kind });
      }
    }
    return [...kinds.values()];
  }

  private scheduleResync(): void {
    if (this.stopped) return;
    this.resyncTimer = setTimeout(() => {
      if (this.current) this.enqueue(this.current);
      this.scheduleResync();
    }, this.opts.resyncIntervalMs ?? 5 * 60_000);
    this.resyncTimer.unref();
  }

  // --- watch events: health and drift ---------------------------------------------------------------

  private onWatchEvent(_event: WatchEvent, key: string): void {
    if (!this.applied.has(key)) return;
    this.scheduleStatus();
    if (!this.applying) this.checkDrift(key);
  }

  /** Compares the live object with what we applied; records and handles drift. */
  private checkDrift(key: string): void {
    const entry = this.applied.get(key);
    if (!entry || this.stopped) return;
    const live = this.live.get(key);
    const ref = refOf(entry.desired);
    let paths: DriftPath[];
    let actor: string;
    let changedAt: string | undefined;
    if (!live) {
      paths = [{ path: "", desired: "present", live: null }];
      actor = "unknown (deleted)";
    } else {
      paths = diffLive(withOwnerLabels(entry.desired, entry.app.name, this.opts.cluster), live, { baseline: entry.baseline, ignore: entry.app.policy.ignore });
      if (paths.length === 0) {
        this.reportedDrift.delete(key);
        return;
      }
      const who = driftActor(live, paths.map((p) => p.path), this.opts.manager.fieldManager);
      actor = who?.manager ?? "unknown";
      changedAt = who?.time;
    }
    // A revert already scheduled or in flight answers this drift; counting it again would turn
    // the events of one change (spec, then status) into a fight.
    if (this.pendingReverts.has(key) || this.reverting.has(key)) return;

    const policy = entry.app.policy.drift;
    const glassed = this.opts.breakGlass?.covers(entry.app.name, key) ?? false;
    let action: DriftAction;
    if (policy !== DriftPolicy.Enforce) action = DriftAction.Left;
    else if (glassed) action = DriftAction.BlockedByBreakGlass;
    else {
      const decision = this.fights.next(key, Date.now());
      action = decision.fight ? DriftAction.Fight : DriftAction.Reverted;
      if (decision.delayMs === 0) void this.revert(key);
      else {
        const t = setTimeout(() => {
          this.pendingReverts.delete(key);
          void this.revert(key);
        }, decision.delayMs);
        t.unref();
        this.pendingReverts.set(key, t);
      }
    }

    // Report each distinct drift once: a drift left in place is not re-reported on every event.
    const signature = JSON.stringify([paths, action === DriftAction.Reverted || action === DriftAction.Fight ? Date.now() : action]);
    if (action !== DriftAction.Reverted && action !== DriftAction.Fight && this.reportedDrift.get(key) === signature) return;
    this.reportedDrift.set(key, signature);
    this.counters.drifts++;
    const d = this.current!;
    this.opts.reporter.drift({
      generation: d.pointer.generation,
      revision: d.pointer.revision,
      app: entry.app.name,
      object: ref,
      paths,
      actor,
      ...(changedAt ? { changedAt } : {}),
      policy,
      action,
    });
    this.log.info({ object: describeRef(ref), paths: paths.map((p) => p.path), actor, action }, "drift");
  }

  private async revert(key: string): Promise<void> {
    const entry = this.applied.get(key);
    if (!entry || this.stopped || this.applying || this.reverting.has(key)) return;
    this.reverting.add(key);
    let result;
    try {
      result = await this.opts.manager.apply(entry.desired, { owner: { app: entry.app.name, cluster: this.opts.cluster }, ...this.defaultNamespace() });
    } finally {
      this.reverting.delete(key);
    }
    if (result.action === ChangeAction.Failed) {
      this.log.warn({ object: describeRef(result.ref), reason: result.reason, message: result.message }, "drift revert failed");
      return;
    }
    this.counters.reverts++;
    if (result.applied) {
      entry.baseline = result.applied;
      this.live.remember(result.applied);
    }
  }

  // --- status -------------------------------------------------------------------------------------

  private scheduleStatus(delayMs = this.opts.statusDebounceMs ?? 250): void {
    if (this.statusTimer || this.stopped) return;
    this.statusTimer = setTimeout(() => {
      this.statusTimer = undefined;
      this.reportStatusNow();
    }, delayMs);
    this.statusTimer.unref();
  }

  /** Reports status when it differs from the last report (health changes, sync state, errors). */
  private reportStatusNow(): void {
    const d = this.current;
    if (!d) return;
    const status: StatusBody = buildStatus(d, this.results, (k) => this.live.get(k), {
      applying: this.applying,
      ...(this.lastError ? { lastError: this.lastError } : {}),
      ...(this.observedRevision ? { observedRevision: this.observedRevision } : {}),
    });
    const json = JSON.stringify(status);
    if (json === this.lastStatusJson) return;
    this.lastStatusJson = json;
    this.opts.reporter.status(status);
  }

  /** Health of every applied object as the agent sees it now (tests, CLI). */
  healthOf(key: string) {
    return computeHealth(this.live.get(key));
  }

  /** The live object, Secret values masked (API and debugging). */
  liveObject(key: string): KubeObject | undefined {
    const o = this.live.get(key);
    return o ? maskObject(o) : undefined;
  }
}

function withOwnerLabels(o: KubeObject, app: string, cluster: string): KubeObject {
  return { ...o, metadata: { ...o.metadata, labels: { ...o.metadata.labels, "flotilla.dev/app": app, "flotilla.dev/cluster": cluster } } };
}

function mergeInventories<T extends { ref: { group: string; kind: string; namespace: string; name: string } }>(a: readonly T[], b: readonly T[]): T[] {
  const byKey = new Map<string, T>();
  for (const e of [...a, ...b]) byKey.set(refKey(e.ref), e);
  return [...byKey.values()];
}
