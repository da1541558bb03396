// The agent's reconcile loop, top to bottom:
//
//   desired state arrives (verified pointer + bundle, or the cached one at start)
//   → report Applying (listing the new revision's objects as pending)
//   → per app: staged server-side apply (zero writes for unchanged objects; fields a break-glass
//     window covers that drifted out of band are applied with their live values, and a covered
//     object deleted out of band is not re-created, until the window ends) → prune what left
//     the bundle (by the app's inventory in the cluster; only when the app's policy says prune)
//     → write the inventory (labelled with this cluster, annotated with the prune policy)
//   → apps whose inventory exists but which left the bundle entirely: pruned when their last
//     policy allowed it, else kept (and no longer watched)
//   → watch every kind applied (label-selected to this cluster's objects; kinds no longer used
//     have their watches stopped and their objects dropped)
//   → report status: sync state, observed revision, per-object health and images
//   → on every watch event: recompute health (status when it changes) and compare the live
//     object with what we applied; a difference in a field we declare is drift: record it in the
//     drift ledger (paths, desired and live values with Secret values masked, actor and time from
//     managedFields, action) and, by policy, revert it (backing off when it is a fight)
//   → a full reconcile again every resync interval, and at once on a newer desired state.
//
// The reconcile never waits for health: health is reported as watch events arrive, so a newer
// desired revision is never held up by the previous one's rollout (behaviour 20).
//
// Failures are state: each object's failure is in its change-set entry and the status; only a
// stop() ends the loop.
import type { ChangeSetEntry, InventoryEntry, KubeClient, ResourceManager, WatchEvent } from "@flotilla/kube";
import { diffLive, driftActor, encodeInventory, inventoryFromChangeSet, jsonEqual, maskObject } from "@flotilla/kube";
import { computeHealth } from "@flotilla/health";
import {
  ChangeAction,
  DriftAction,
  DriftPolicy,
  ErrorCode,
  Reason,
  describeRef,
  refKey,
  refOf,
  toErrorInfo,
  type BundleApp,
  type DriftPath,
  type ErrorInfo,
  type KubeObject,
} from "@flotilla/model";
import { AppInventories, type StoredInventory } from "./app-inventory.js";
import { ignoredPaths, withLiveValuesAtIgnoredPaths, withValuesAt } from "./ignore-paths.js";
import { FightGuard, defaultFightGuardOptions, type FightGuardOptions } from "./fight-guard.js";
import { LiveObjects, type LiveObjectsOptions, type WatchedKind } from "./live-objects.js";
import { startHeartbeats, type HeartbeatTimer } from "./nats-heartbeats.js";
import type { DesiredStateSource, DriftBody, Refusal, Reporter, StatusBody, VerifiedDesired } from "./ports.js";
import { buildStatus, pendingResults, type AppResult } from "./status-builder.js";
import { countDrift, tracedApply, tracedReconcile, tracedRevert } from "./telemetry.js";

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
  /** Tenant agent: the namespaces it may watch and apply in. Namespaced objects that name no
   * namespace go to the first; inventories live where `manager.inventoryNamespace` says. */
  namespaces?: string[];
  breakGlass?: BreakGlassView;
  heartbeatIntervalMs?: number;
  /** Full reconcile this often even without a new desired state (default 5 min). */
  resyncIntervalMs?: number;
  /** Wait this long after a status-relevant event before reporting (coalesces bursts). */
  statusDebounceMs?: number;
  fightGuard?: Partial<FightGuardOptions>;
  /** A reconcile with failures is retried after `initialMs`, doubling up to `maxMs` (default
   * 5 s up to the resync interval); a fully applied one resets it. */
  retry?: { initialMs?: number; maxMs?: number };
  /** Watch tuning (relist interval, backoff); defaults are libs/kube's. */
  watch?: LiveObjectsOptions;
  logger?: AgentLogger;
}

interface Applied {
  app: BundleApp;
  desired: KubeObject;
  /** The object as the server returned it after our apply: the baseline for drift. */
  baseline: KubeObject | undefined;
}

/** Out-of-band values a break-glass window covers, kept by a full reconcile (see holdBreakGlassDrift). */
interface BreakGlassHold {
  /** The object to apply: desired, with the live values at `paths`. */
  object: KubeObject;
  paths: string[];
  /** The server's dry-run of the desired object: the expected values at `paths` for the baseline. */
  expected: KubeObject;
  /** The live object the paths' list indices refer to. */
  live: KubeObject;
}

/** The last drift seen of an object: what a failed revert is reported with. */
interface SeenDrift {
  paths: DriftPath[];
  actor: string;
  changedAt: string;
  /** Where changedAt comes from: the actor's managedFields time, or the time the agent saw the
   * event (managedFields carry none, e.g. for the scale subresource, or the object was deleted). */
  changedAtSource: "managedFields" | "seen";
}

const silent: AgentLogger = { info() {}, warn() {}, error() {} };

export class Reconciler {
  private readonly log: AgentLogger;
  private readonly live: LiveObjects;
  private readonly fights: FightGuard;
  private readonly fightOptions: FightGuardOptions;
  private readonly inventories: AppInventories;
  private readonly applied = new Map<string, Applied>();
  /** Last reported drift per object (paths + live values), so a drift left in place is reported once. */
  private readonly reportedDrift = new Map<string, string>();
  private readonly lastDrift = new Map<string, SeenDrift>();
  /** When the agent saw the latest event of each object: the drift time when managedFields have none. */
  private readonly seenAt = new Map<string, number>();
  private readonly pendingReverts = new Map<string, NodeJS.Timeout>();
  /** Objects whose revert is being written: their events until it lands are the same drift. */
  private readonly reverting = new Map<string, Promise<void>>();
  private current: VerifiedDesired | undefined;
  private results: AppResult[] = [];
  private observedRevision: string | undefined;
  private lastError: ErrorInfo | undefined;
  private controlRefusal: ErrorInfo | undefined;
  private applying = false;
  private stopped = false;
  private loop: Promise<void> = Promise.resolve();
  private queued: VerifiedDesired | undefined;
  private statusTimer: NodeJS.Timeout | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryDelayMs: number | undefined;
  private heartbeats: HeartbeatTimer | undefined;
  private lastStatusJson = "";
  /** Counters for tests, benchmarks and metrics. `reverts` counts the agent's revert writes. */
  readonly counters = { reconciles: 0, statuses: 0, drifts: 0, reverts: 0, revertFailures: 0, refusals: 0, prunedApps: 0 };

  constructor(private readonly opts: ReconcilerOptions) {
    this.log = opts.logger ?? silent;
    this.fightOptions = { ...defaultFightGuardOptions(), ...opts.fightGuard };
    this.fights = new FightGuard(this.fightOptions);
    this.inventories = new AppInventories(opts.client, opts.manager.inventoryNamespace, opts.cluster, opts.manager.fieldManager);
    this.live = new LiveObjects(
      opts.client,
      opts.cluster,
      (key) => this.applied.has(key),
      (event, key) => this.onWatchEvent(event, key),
      (err, kind) => this.log.warn({ err: err.message, kind: kind.kind, namespace: kind.namespace }, "watch error; restarting with backoff"),
      opts.watch,
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
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.cancelPendingReverts();
    await this.opts.source.stop();
    await this.loop.catch(() => undefined);
    await Promise.all(this.reverting.values());
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

  /** Kinds watched and objects held now (tests and metrics: memory is bounded by the bundle). */
  watchStats(): { kinds: WatchedKind[]; objects: number } {
    return { kinds: this.live.watched(), objects: this.live.size };
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
      if (next && !this.stopped) await tracedReconcile(this.opts.cluster, next, () => this.reconcile(next));
    });
  }

  /** A refused pointer or bundle: status lastError (and sync state Failed: the agent cannot follow
   * the hub) until the next revision. */
  private onRefused(r: Refusal): void {
    this.counters.refusals++;
    this.lastError = r.error;
    this.log.warn({ error: r.error, generation: r.pointer?.generation }, "refused desired state");
    if (this.current) this.scheduleStatus(0);
  }

  /** A refused break-glass control record (bad signature, stale generation, other cluster…): the
   * hub learns of it in the status report's lastError until the next revision (a failure of the
   * agent's own takes precedence). The sync state does not turn Failed: the desired state is
   * still enforced, and a forged record must not hold up anything waiting on Synced. */
  reportRefusal(r: Refusal): void {
    this.counters.refusals++;
    this.controlRefusal = r.error;
    this.log.warn({ error: r.error }, "refused break-glass control record");
    if (this.current) this.scheduleStatus(0);
  }

  // --- the full reconcile -------------------------------------------------------------------------

  private async reconcile(d: VerifiedDesired): Promise<void> {
    const isNewRevision = this.current?.pointer.generation !== d.pointer.generation;
    this.current = d;
    this.counters.reconciles++;
    if (isNewRevision) {
      // A refusal of an older pointer (or control record) says nothing about this one.
      this.lastError = undefined;
      this.controlRefusal = undefined;
      this.reportedDrift.clear();
    }
    // 1. Say we are applying, so the hub never mistakes old status for the new generation: the
    // objects listed are this revision's, pending until their apply is done.
    this.applying = true;
    if (isNewRevision) {
      this.results = pendingResults(d.bundle.apps);
      this.reportStatusNow();
    }
    // Reverts of the old desired state would race the apply: cancel the scheduled ones, let the
    // ones in flight land. Drift is checked again against the new desired state afterwards.
    this.cancelPendingReverts();
    await Promise.all(this.reverting.values());

    // 2. Apply each app, prune what left it, remember what we applied.
    const results: AppResult[] = [];
    const nextApplied = new Map<string, Applied>();
    let failure: ErrorInfo | undefined;
    try {
      // Every inventory of this cluster, read once: each app's previous inventory (what to prune,
      // whether it changed) and the apps that left the bundle.
      const listed = await this.inventories.list();
      if (!listed.ok) this.log.warn({ error: listed.failure.message }, "cannot list inventories; reading each app's by name, and apps that left the bundle are pruned at the next reconcile");
      const stored = listed.ok ? new Map(listed.value.map((i) => [i.app, i])) : undefined;
      for (const app of d.bundle.apps) {
        // A newer desired state supersedes this one: stop here, apply that one now (behaviour
        // 20). What was applied so far stays watched until the newer reconcile replaces it.
        if (this.queued && this.queued.pointer.generation > d.pointer.generation) {
          for (const [k, v] of nextApplied) this.applied.set(k, v);
          this.applying = false;
          this.log.info({ generation: d.pointer.generation, supersededBy: this.queued.pointer.generation, appsLeft: d.bundle.apps.length - results.length }, "superseded by a newer desired state");
          return;
        }
        const { entries, applied, inventoryError } = await tracedApply(this.opts.cluster, app.name, app.objects.length, () => this.applyApp(app, stored?.get(app.name)));
        if (inventoryError) failure ??= inventoryError;
        for (const [k, v] of applied) nextApplied.set(k, v);
        results.push({ name: app.name, entries });
      }
      if (listed.ok) await this.pruneRemovedApps(new Set(d.bundle.apps.map((a) => a.name)), listed.value);
    } catch (err) {
      failure = toErrorInfo(err, ErrorCode.ApplyFailed);
      this.log.error({ error: failure }, "reconcile failed");
    }
    this.applied.clear();
    for (const [k, v] of nextApplied) this.applied.set(k, v);
    for (const key of new Set([...this.seenAt.keys(), ...this.lastDrift.keys(), ...this.reportedDrift.keys()])) {
      if (!this.applied.has(key)) this.forgetObject(key);
    }
    this.results = results;
    const allApplied = !failure && results.every((r) => r.entries.every((e) => e.action !== ChangeAction.Failed));
    if (allApplied) this.observedRevision = d.pointer.revision;
    if (failure) this.lastError = failure;

    // 3. Watch what we applied (and only that); the first list also catches drift made while we
    // applied.
    await this.live.watchOnly(this.watchedKinds());
    this.applying = false;
    this.reportStatusNow();
    this.log.info({ revision: d.pointer.revision, generation: d.pointer.generation, apps: results.map((r) => r.name) }, "reconciled");

    // 4. Anything that drifted while we were applying is handled now.
    for (const key of this.applied.keys()) this.checkDrift(key);

    // 5. Failures (an unreachable API server, a missing namespace, a rejected object) are retried
    // with backoff rather than only at the next resync.
    this.scheduleRetry(allApplied);
  }

  private scheduleRetry(succeeded: boolean): void {
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    if (succeeded || this.stopped) {
      this.retryDelayMs = undefined;
      return;
    }
    const { initialMs, maxMs } = { initialMs: 5_000, maxMs: this.opts.resyncIntervalMs ?? 5 * 60_000, ...this.opts.retry };
    this.retryDelayMs = this.retryDelayMs === undefined ? initialMs : Math.min(this.retryDelayMs * 2, maxMs);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (this.current && !this.queued) this.enqueue(this.current);
    }, this.retryDelayMs);
    this.retryTimer.unref();
  }

  /** Applies one app, prunes or keeps what left it, writes its inventory (`stored`: the app's
   * inventory as listed at the start of this reconcile, undefined when not found there). */
  private async applyApp(app: BundleApp, stored: StoredInventory | undefined): Promise<{ entries: ChangeSetEntry[]; applied: Map<string, Applied>; inventoryError?: ErrorInfo }> {
    const owner = { app: app.name, cluster: this.opts.cluster };
    const holds = new Map<string, BreakGlassHold>();
    const keptDeleted = new Map<string, KubeObject>();
    const prepared = await Promise.all(
      app.objects.map(async (o) => {
        const ready = await this.respectIgnored(o, app);
        const held = await this.holdBreakGlassDrift(ready, app);
        if (!held) return ready;
        if (held.deleted) {
          keptDeleted.set(held.key, held.deleted);
          return undefined;
        }
        holds.set(held.key, held.hold);
        return held.hold.object;
      }),
    );
    const objects = prepared.filter((o): o is KubeObject => o !== undefined);
    const changes = await this.opts.manager.applyAll(objects, {
      owner,
      ...this.defaultNamespace(),
      // The watch cache stands in for a GET; a manifest that changed since it was applied needs
      // no dry-run to know it must be written (manager-options.ts).
      liveOf: (o) => this.live.get(refKey(refOf(o))),
      expectsWrite: (o) => {
        const last = this.applied.get(refKey(refOf(o)));
        return last !== undefined && last.app.name === app.name && !jsonEqual(withOwnerLabels(last.desired, app.name, this.opts.cluster), o);
      },
    });
    // Deleted out of band under a window: not re-created now, still in the inventory, watched
    // (its drift is reported blocked) and re-created when the window ends.
    for (const o of keptDeleted.values()) {
      const ref = refOf(o);
      changes.entries.push({ ref, apiVersion: o.apiVersion, action: ChangeAction.Skipped, reason: Reason.BlockedByBreakGlass, message: `${describeRef(ref)}: deleted out of band while a break-glass window covers it; re-created when the window ends` });
    }
    const entries: ChangeSetEntry[] = changes.entries.map((e) => {
      const hold = holds.get(refKey(e.ref));
      const entry = this.explainTenantRefusal(e);
      return hold && entry.action !== ChangeAction.Failed ? { ...entry, message: `${entry.message}; break-glass: live values kept at ${hold.paths.join(", ")}` } : entry;
    });
    // Not listed: absent, or written before inventories carried the cluster label; read by name.
    const previous = stored ? { ok: true as const, value: stored.entries } : await this.opts.manager.readInventory(app.name);
    // An object the identity may not even touch (a tenant's cluster-scoped object, another
    // namespace) never existed by our hand: keeping it in the inventory would make every later
    // prune fail on it. It stays only if an earlier inventory already had it.
    const known = new Set(previous.ok ? previous.value.map((e) => refKey(e.ref)) : []);
    const forbidden = new Set(changes.entries.filter((e) => e.action === ChangeAction.Failed && e.reason === Reason.Forbidden && !known.has(refKey(e.ref))).map((e) => refKey(e.ref)));
    const current = inventoryFromChangeSet(changes).filter((e) => !forbidden.has(refKey(e.ref)));
    let inventory: InventoryEntry[] = current;
    if (previous.ok && app.policy.prune) {
      const pruned = await this.opts.manager.prune(previous.value, current, { owner });
      entries.push(...pruned.changeSet.entries);
      inventory = mergeInventories(current, pruned.retained);
    } else if (previous.ok) {
      inventory = mergeInventories(previous.value, current); // prune: false — kept, and still tracked
    }
    // An inventory already as it would be written is not written again (most revisions change
    // objects, not which objects an app has).
    const unchanged = stored !== undefined && stored.prune === app.policy.prune && encodeInventory(stored.entries) === encodeInventory(inventory);
    const written = unchanged ? ({ ok: true } as const) : await this.inventories.write(app.name, inventory, app.policy.prune);
    const inventoryError = written.ok ? undefined : { code: ErrorCode.ApplyFailed, message: `inventory of app ${app.name}: ${written.failure.message}` };

    const applied = new Map<string, Applied>();
    const byKey = new Map(app.objects.map((o) => [refKey(refOf(o)), o]));
    for (const e of changes.entries) {
      const kept = keptDeleted.get(refKey(e.ref));
      if (kept) {
        applied.set(refKey(e.ref), { app, desired: kept, baseline: this.applied.get(refKey(e.ref))?.baseline });
        continue;
      }
      // Failed objects are not watched: there is no applied state to hold them to (and a
      // tenant's forbidden object could not be watched anyway); the next reconcile retries them.
      if (e.action === ChangeAction.Skipped || e.action === ChangeAction.Failed) continue;
      const desired = byKey.get(refKey(e.ref));
      if (!desired) continue;
      // A held object was applied with its out-of-band values; its baseline gets the desired
      // values back at those paths, so the drift stays visible and is reverted when the window ends.
      const hold = holds.get(refKey(e.ref));
      const baseline = hold && e.applied ? withValuesAt(e.applied, hold.expected, hold.paths, hold.live) : e.applied;
      if (hold) this.log.info({ app: app.name, object: describeRef(e.ref), paths: hold.paths }, "break-glass window covers drifted object: live values kept");
      applied.set(refKey(e.ref), { app, desired: withScopeOf(desired, e.ref.namespace), baseline });
      if (e.applied) this.live.remember(e.applied);
    }
    return { entries, applied, ...(inventoryError ? { inventoryError } : {}) };
  }

  /** A tenant agent's Forbidden entry says why (the API server's message names the identity). */
  private explainTenantRefusal(e: ChangeSetEntry): ChangeSetEntry {
    const ns = this.opts.namespaces;
    if (!ns?.length || e.action !== ChangeAction.Failed || e.reason !== Reason.Forbidden) return e;
    const why = e.ref.namespace === "" ? "it is cluster-scoped" : ns.includes(e.ref.namespace) ? "the identity lacks the permission" : `namespace ${e.ref.namespace} is not one of them`;
    return { ...e, message: `${e.message} (tenant agent limited to namespaces ${ns.join(", ")}: ${why})` };
  }

  /** The object to apply: for an existing object with ignore rules, the live values at the
   * ignored paths (see ignore-paths.ts). */
  private async respectIgnored(o: KubeObject, app: BundleApp): Promise<KubeObject> {
    if (ignoredPaths(o, app.policy.ignore).length === 0) return o;
    const namespace = o.metadata.namespace ?? this.defaultNamespace().defaultNamespace ?? "default";
    const cached = this.live.get(refKey({ ...refOf(o), namespace }));
    if (cached) return withLiveValuesAtIgnoredPaths(o, cached, app.policy.ignore);
    const r = await this.opts.client.get({ apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name, namespace });
    return r.ok ? withLiveValuesAtIgnoredPaths(o, r.value, app.policy.ignore) : o;
  }

  /**
   * A full reconcile (new revision, resync, retry) must not undo what a break-glass window lets
   * people change by hand: for an existing object the window covers, the fields that drifted from
   * what the agent applied last (or, for an object it has not applied yet in this process, every
   * field that differs from the desired state) are applied with their live values — the ignore
   * paths' technique. Fields the new revision changes elsewhere are applied as usual. An object
   * the agent applied that is now gone was deleted out of band: it is not re-created (`deleted`:
   * the desired object, scoped). Undefined when nothing is to be held.
   */
  private async holdBreakGlassDrift(o: KubeObject, app: BundleApp): Promise<{ key: string; hold: BreakGlassHold; deleted?: undefined } | { key: string; deleted: KubeObject } | undefined> {
    const glass = this.opts.breakGlass;
    if (!glass) return undefined;
    const info = await this.opts.client.resource(o.apiVersion, o.kind);
    if (!info.ok) return undefined; // the apply reports the unknown kind
    const namespace = info.value.namespaced ? (o.metadata.namespace ?? this.defaultNamespace().defaultNamespace ?? "default") : "";
    const scoped = withScopeOf(o, namespace);
    const key = refKey(refOf(scoped));
    if (!glass.covers(app.name, key)) return undefined;
    const previous = this.applied.get(key);
    const ours = previous !== undefined && previous.app.name === app.name;
    let live = this.live.get(key);
    if (!live) {
      const got = await this.opts.client.get({ apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name, namespace });
      if (!got.ok) return undefined; // unreadable: the apply says why
      // Absent: deleted out of band when we had applied it, else simply created as desired.
      if (!got.value) return ours ? { key, deleted: scoped } : undefined;
      live = got.value;
    }
    const owned = withOwnerLabels(scoped, app.name, this.opts.cluster);
    const dry = await this.opts.client.apply(owned, { fieldManager: this.opts.manager.fieldManager, force: true, dryRun: true });
    if (!dry.ok) return undefined;
    const ignore = app.policy.ignore;
    const differing = diffLive(owned, live, { baseline: dry.value, ignore }).map((p) => p.path);
    const drifted = ours
      ? new Set(diffLive(withOwnerLabels(previous.desired, app.name, this.opts.cluster), live, { baseline: previous.baseline, ignore }).map((p) => p.path))
      : undefined;
    const paths = differing.filter((p) => p !== "" && (!drifted || drifted.has(p)));
    if (paths.length === 0) return undefined;
    return { key, hold: { object: withValuesAt(scoped, live, paths), paths, expected: dry.value, live } };
  }

  /** Apps with an inventory on this cluster but no longer in the bundle: pruned when their last
   * policy said prune (the inventory is then removed), else left in place. */
  private async pruneRemovedApps(inBundle: Set<string>, stored: readonly StoredInventory[]): Promise<void> {
    for (const inv of stored) {
      if (inBundle.has(inv.app)) continue;
      if (!inv.prune) {
        this.log.info({ app: inv.app, objects: inv.entries.length }, "app left the bundle; its policy keeps its objects (prune: false)");
        continue;
      }
      const pruned = await this.opts.manager.prune(inv.entries, [], { owner: { app: inv.app, cluster: this.opts.cluster } });
      const deleted = pruned.changeSet.entries.filter((e) => e.action === ChangeAction.Deleted).map((e) => describeRef(e.ref));
      const failedDeletes = pruned.changeSet.entries.filter((e) => e.action === ChangeAction.Failed).map((e) => e.message);
      if (pruned.retained.length === 0) {
        const removed = await this.inventories.remove(inv.app);
        if (!removed.ok) this.log.warn({ app: inv.app, error: removed.failure.message }, "cannot remove the inventory of a pruned app");
      } else {
        await this.inventories.write(inv.app, pruned.retained, true);
      }
      this.counters.prunedApps++;
      this.log.info({ app: inv.app, deleted, failed: failedDeletes, retained: pruned.retained.length }, "pruned app that left the bundle");
    }
  }

  private defaultNamespace(): { defaultNamespace?: string } {
    const ns = this.opts.namespaces;
    return ns && ns.length > 0 ? { defaultNamespace: ns[0]! } : {};
  }

  private watchedKinds(): WatchedKind[] {
    const kinds = new Map<string, WatchedKind>();
    for (const { desired } of this.applied.values()) {
      if (this.opts.namespaces?.length) {
        // Tenant agents may not watch cluster-wide: one watch per kind and namespace.
        const ns = desired.metadata.namespace ?? this.opts.namespaces[0]!;
        kinds.set(`${desired.apiVersion}|${desired.kind}|${ns}`, { apiVersion: desired.apiVersion, kind: desired.kind, namespace: ns });
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

  /** Checks every managed object for drift now, e.g. when a break-glass window ends: what it
   * covered is then reverted (or reported) by the current policy without waiting for an event. */
  recheckDrift(): void {
    if (this.applying || this.stopped) return;
    for (const key of this.applied.keys()) this.checkDrift(key);
  }

  // --- watch events: health and drift ---------------------------------------------------------------

  private onWatchEvent(_event: WatchEvent, key: string): void {
    if (!this.applied.has(key)) return;
    this.seenAt.set(key, Date.now());
    this.scheduleStatus();
    if (!this.applying) this.checkDrift(key);
  }

  /** Compares the live object with what we applied; records and handles drift. */
  private checkDrift(key: string): void {
    const entry = this.applied.get(key);
    if (!entry || this.stopped) return;
    const live = this.live.get(key);
    const ref = refOf(entry.desired);
    const seen = new Date(this.seenAt.get(key) ?? Date.now()).toISOString();
    let paths: DriftPath[];
    let actor: string;
    let changedAt: string;
    let changedAtSource: SeenDrift["changedAtSource"] = "seen";
    if (!live) {
      paths = [{ path: "", desired: "present", live: null }];
      actor = "unknown (deleted)";
      changedAt = seen;
    } else {
      paths = diffLive(withOwnerLabels(entry.desired, entry.app.name, this.opts.cluster), live, { baseline: entry.baseline, ignore: entry.app.policy.ignore });
      if (paths.length === 0) {
        this.reportedDrift.delete(key);
        this.lastDrift.delete(key);
        return;
      }
      const who = driftActor(live, paths.map((p) => p.path), this.opts.manager.fieldManager);
      actor = who?.manager ?? "unknown";
      // managedFields carry no time for some writes (the scale subresource records none): the
      // time the agent saw the event is then the best bound on when the change happened.
      changedAt = who?.time ?? seen;
      if (who?.time) changedAtSource = "managedFields";
    }
    const drift: SeenDrift = { paths, actor, changedAt, changedAtSource };
    this.lastDrift.set(key, drift);
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
      if (decision.delayMs === 0) {
        // Ledgered once the write's outcome is known: reverted, or revert-failed.
        this.startRevert(key, drift);
        return;
      } else {
        const t = setTimeout(() => {
          this.pendingReverts.delete(key);
          this.startRevert(key);
        }, decision.delayMs);
        t.unref();
        this.pendingReverts.set(key, t);
      }
    }

    // A drift left in place is reported once per distinct drift (same paths and values), not on
    // every event of the object; each revert (or backed-off revert) is its own ledger entry.
    if (action !== DriftAction.Reverted && action !== DriftAction.Fight) {
      const signature = JSON.stringify([paths, action]);
      if (this.reportedDrift.get(key) === signature) return;
      this.reportedDrift.set(key, signature);
    }
    this.reportDrift(entry, ref, drift, action);
  }

  private reportDrift(entry: Applied, ref: ReturnType<typeof refOf>, drift: SeenDrift, action: DriftAction): void {
    const d = this.current;
    if (!d) return;
    const policy = entry.app.policy.drift;
    this.counters.drifts++;
    const body: DriftBody = {
      generation: d.pointer.generation,
      revision: d.pointer.revision,
      app: entry.app.name,
      object: ref,
      paths: drift.paths,
      actor: drift.actor,
      changedAt: drift.changedAt,
      policy,
      action,
    };
    this.opts.reporter.drift(body);
    countDrift(this.opts.cluster, action, policy);
    // Paths carry values, Secret values already masked by diffLive.
    const line = { app: entry.app.name, object: describeRef(ref), paths: drift.paths, actor: drift.actor, changedAt: drift.changedAt, changedAtSource: drift.changedAtSource, policy, action };
    if (action === DriftAction.Fight || action === DriftAction.RevertFailed || policy === DriftPolicy.Warn) this.log.warn(line, "drift");
    else this.log.info(line, "drift");
  }

  /** Starts a revert; with `drift`, the ledger entry is written when its outcome is known. */
  private startRevert(key: string, drift?: SeenDrift): void {
    if (this.reverting.has(key)) return;
    const done = tracedRevert(this.opts.cluster, key, () => this.revert(key, drift)).finally(() => this.reverting.delete(key));
    this.reverting.set(key, done);
  }

  private async revert(key: string, drift?: SeenDrift): Promise<void> {
    const entry = this.applied.get(key);
    if (!entry || this.stopped || this.applying) return;
    let result: ChangeSetEntry;
    try {
      const desired = withLiveValuesAtIgnoredPaths(entry.desired, this.live.get(key), entry.app.policy.ignore);
      result = await this.opts.manager.apply(desired, { owner: { app: entry.app.name, cluster: this.opts.cluster }, ...this.defaultNamespace() });
    } catch (err) {
      result = { ref: refOf(entry.desired), apiVersion: entry.desired.apiVersion, action: ChangeAction.Failed, reason: Reason.ApplyFailed, message: (err as Error).message };
    }
    if (result.action === ChangeAction.Failed) {
      this.counters.revertFailures++;
      const seen = drift ?? this.lastDrift.get(key);
      if (seen && this.applied.get(key) === entry) this.reportDrift(entry, refOf(entry.desired), seen, DriftAction.RevertFailed);
      this.log.warn({ object: describeRef(result.ref), reason: result.reason, message: result.message }, "drift revert failed");
      // Retried with the fight backoff (never sooner than its initial delay): a namespace being
      // deleted or a webhook down must not turn into a hot loop, nor be given up on.
      if (!this.stopped && this.applied.get(key) === entry && !this.pendingReverts.has(key)) {
        const delay = Math.max(this.fights.next(key, Date.now()).delayMs, this.fightOptions.initialDelayMs);
        const t = setTimeout(() => {
          this.pendingReverts.delete(key);
          this.startRevert(key, seen); // ledgered again: revert-failed, or finally reverted
        }, delay);
        t.unref();
        this.pendingReverts.set(key, t);
      }
      return;
    }
    if (result.action !== ChangeAction.Unchanged) this.counters.reverts++;
    if (drift && this.applied.get(key) === entry) this.reportDrift(entry, refOf(entry.desired), drift, DriftAction.Reverted);
    if (result.applied && this.applied.get(key) === entry) {
      entry.baseline = result.applied;
      this.live.remember(result.applied);
    }
  }

  private cancelPendingReverts(): void {
    for (const t of this.pendingReverts.values()) clearTimeout(t);
    this.pendingReverts.clear();
  }

  private forgetObject(key: string): void {
    this.lastDrift.delete(key);
    this.reportedDrift.delete(key);
    this.seenAt.delete(key);
    this.fights.forget(key);
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
    if (!d || this.stopped) return;
    const status: StatusBody = buildStatus(d, this.results, (k) => this.live.get(k), {
      applying: this.applying,
      ...(this.lastError ? { lastError: this.lastError } : {}),
      ...(this.controlRefusal ? { notice: this.controlRefusal } : {}),
      ...(this.observedRevision ? { observedRevision: this.observedRevision } : {}),
    });
    const json = JSON.stringify(status);
    if (json === this.lastStatusJson) return;
    this.lastStatusJson = json;
    this.counters.statuses++;
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

/** The desired object with the namespace the apply engine resolved (defaulted or dropped for
 * cluster-scoped kinds), so watches and reverts address the object that was applied. */
function withScopeOf(o: KubeObject, namespace: string): KubeObject {
  if ((o.metadata.namespace ?? "") === namespace) return o;
  const { namespace: _dropped, ...metadata } = o.metadata;
  return { ...o, metadata: namespace ? { ...metadata, namespace } : metadata } as KubeObject;
}

function mergeInventories<T extends { ref: { group: string; kind: string; namespace: string; name: string } }>(a: readonly T[], b: readonly T[]): T[] {
  const byKey = new Map<string, T>();
  for (const e of [...a, ...b]) byKey.set(refKey(e.ref), e);
  return [...byKey.values()];
}
