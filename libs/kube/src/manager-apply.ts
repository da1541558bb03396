// Apply: one object (applyOne) and a whole set in stages (applyAll).
import type { DriftPath, KubeObject, ObjectRef } from "@flotilla/model";
import { ChangeAction, Reason, describeRef, refOf } from "@flotilla/model";
import { classifyApplyFailure, isImmutableFieldFailure } from "./apply-failure.js";
import type { ChangeSet, ChangeSetEntry } from "./changeset.js";
import type { KubeClient } from "./client.js";
import { PatchType } from "./client.js";
import { Label, isCreateOnly, isReconcileDisabled } from "./conventions.js";
import { changedPaths, sameLiveState } from "./compare.js";
import { clone } from "./json.js";
import { planApply } from "./manager-diff.js";
import type { ApplyOptions } from "./manager-options.js";
import { waitForDeleted, waitForEstablished } from "./manager-wait.js";
import { Stage, sortForApply, stageOf } from "./ordering.js";
import { ok, type KubeResult } from "./result.js";
import { targetOf } from "./target.js";
import { takeOverPatch } from "./take-over.js";

export interface ApplyContext {
  client: KubeClient;
  fieldManager: string;
}

function entry(o: KubeObject, action: ChangeSetEntry["action"], reason: ChangeSetEntry["reason"], message: string, extra: Partial<ChangeSetEntry> = {}): ChangeSetEntry {
  return { ref: refOf(o), apiVersion: o.apiVersion, action, reason, message, ...extra };
}

export function failed(o: KubeObject, f: Parameters<typeof classifyApplyFailure>[0]): ChangeSetEntry {
  const c = classifyApplyFailure(f, o);
  return entry(o, ChangeAction.Failed, c.reason, c.message, { failure: c.failure });
}

/** The manifest as we send it: ownership labels added. */
function withOwner(o: KubeObject, opts: ApplyOptions): KubeObject {
  if (!opts.owner) return o;
  const copy = clone(o);
  copy.metadata.labels = { ...copy.metadata.labels, [Label.App]: opts.owner.app, [Label.Cluster]: opts.owner.cluster };
  return copy;
}

/** Applies one object whose kind is served and whose namespace is set (see applyAll). */
export async function applyOne(ctx: ApplyContext, desired: KubeObject, opts: ApplyOptions): Promise<ChangeSetEntry> {
  const { client, fieldManager } = ctx;
  const what = describeRef(refOf(desired));
  if (isReconcileDisabled(desired.metadata.annotations)) {
    return entry(desired, ChangeAction.Skipped, Reason.SkippedByAnnotation, `${what}: skipped (flotilla.dev/reconcile: disabled)`);
  }
  const o = withOwner(desired, opts);

  let live = opts.liveOf?.(o);
  if (!live) {
    const got = await client.get(targetOf(o));
    if (!got.ok) return failed(o, got.failure);
    live = got.value;
  }
  if (live && isCreateOnly(o.metadata.annotations)) {
    return entry(o, ChangeAction.Skipped, Reason.CreateOnlyExists, `${what}: exists and is create-only (flotilla.dev/create-only)`, { applied: live });
  }

  // Field-manager hygiene before comparing, so "unchanged" also means "owned by us alone".
  let tookOver = false;
  for (let attempt = 0; live && attempt < 2; attempt++) {
    const patch = takeOverPatch(live, fieldManager, opts.takeOverManagers);
    if (!patch) break;
    const r = await client.patch(targetOf(o), patch, PatchType.Json);
    if (r.ok) {
      live = r.value;
      tookOver = true;
      break;
    }
    // The patch is conditional on the resourceVersion: someone wrote in between. Retry once on
    // the fresh object, then give up for this round.
    if (attempt === 1) return failed(o, r.failure);
    const again = await client.get(targetOf(o));
    if (!again.ok) return failed(o, again.failure);
    live = again.value;
  }

  // A create, or a manifest known to have changed: the dry-run could only say "write", so write.
  if (!live || opts.expectsWrite?.(o)) return applyDirectly(ctx, o, opts, live, tookOver);

  const plan = await planApply(client, o, fieldManager, opts.force, live ?? null);
  if (plan.kind === "failed") {
    if (live && opts.recreateOnImmutable && isImmutableFieldFailure(plan.failure)) return recreate(ctx, o, opts, plan.failure);
    return failed(o, plan.failure);
  }
  if (plan.kind === "unchanged") return unchangedEntry(o, plan.live, tookOver);

  const r = await client.apply(o, { fieldManager, force: opts.force });
  if (!r.ok) return failed(o, r.failure);
  if (plan.kind === "create") return entry(o, ChangeAction.Created, Reason.Applied, `${what}: created`, { applied: r.value });
  return configuredEntry(o, r.value, plan.changes);
}

/** Applies without a dry-run; the action is read from what the server returned against `live`. */
async function applyDirectly(ctx: ApplyContext, o: KubeObject, opts: ApplyOptions, live: KubeObject | undefined, tookOver: boolean): Promise<ChangeSetEntry> {
  const what = describeRef(refOf(o));
  const r = await ctx.client.apply(o, { fieldManager: ctx.fieldManager, force: opts.force });
  if (!r.ok) {
    if (live && opts.recreateOnImmutable && isImmutableFieldFailure(r.failure)) return recreate(ctx, o, opts, r.failure);
    return failed(o, r.failure);
  }
  if (!live) return entry(o, ChangeAction.Created, Reason.Applied, `${what}: created`, { applied: r.value });
  if (sameLiveState(r.value, live, ctx.fieldManager)) return unchangedEntry(o, r.value, tookOver);
  return configuredEntry(o, r.value, changedPaths(r.value, live));
}

/** An apply that changed no field: unchanged, or configured when only field ownership was taken over. */
function unchangedEntry(o: KubeObject, applied: KubeObject, tookOver: boolean): ChangeSetEntry {
  const what = describeRef(refOf(o));
  if (tookOver) return entry(o, ChangeAction.Configured, Reason.Applied, `${what}: fields taken over from kubectl`, { applied, changes: [] });
  return entry(o, ChangeAction.Unchanged, Reason.NoChange, `${what}: unchanged`, { applied });
}

/** An apply that changed the fields at `changes`. */
function configuredEntry(o: KubeObject, applied: KubeObject, changes: DriftPath[]): ChangeSetEntry {
  const paths = changes.map((c) => c.path);
  return entry(o, ChangeAction.Configured, Reason.Applied, `${describeRef(refOf(o))}: configured (${paths.join(", ") || "field ownership"})`, { applied, changes });
}

async function recreate(ctx: ApplyContext, o: KubeObject, opts: ApplyOptions, cause: Parameters<typeof classifyApplyFailure>[0]): Promise<ChangeSetEntry> {
  const what = describeRef(refOf(o));
  const why = classifyApplyFailure(cause, o).message;
  const del = await ctx.client.delete(targetOf(o), { propagationPolicy: "Background" });
  if (!del.ok) return failed(o, del.failure);
  const left = await waitForDeleted(ctx.client, [targetOf(o)], opts.waitTimeoutMs);
  if (left.length > 0) {
    return entry(o, ChangeAction.Failed, Reason.ImmutableField, `${what}: deleted to recreate it (${why}) but it is still terminating after ${opts.waitTimeoutMs} ms`);
  }
  const r = await ctx.client.apply(o, { fieldManager: ctx.fieldManager, force: opts.force });
  if (!r.ok) return failed(o, r.failure);
  return entry(o, ChangeAction.Created, Reason.Applied, `${what}: recreated because an immutable field changed`, { applied: r.value });
}

/** Runs `fn` over items with at most `limit` in flight, keeping result order. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return out;
}

/** Applies groups of objects in order: each group (same stage and kind) may run concurrently. */
async function applyInOrder(ctx: ApplyContext, objects: KubeObject[], opts: ApplyOptions): Promise<ChangeSetEntry[]> {
  const sorted = sortForApply(objects, refOf);
  const groups: KubeObject[][] = [];
  let key = "";
  for (const o of sorted) {
    const k = `${stageOf(refOf(o))}/${o.kind}`;
    if (k !== key || groups.length === 0) groups.push([]);
    key = k;
    groups[groups.length - 1]?.push(o);
  }
  const out: ChangeSetEntry[] = [];
  for (const g of groups) out.push(...(await mapLimit(g, opts.concurrency, (o) => applyOne(ctx, o, opts))));
  return out;
}

const isCrd = (r: ObjectRef): boolean => r.group === "apiextensions.k8s.io" && r.kind === "CustomResourceDefinition";

/**
 * Staged, ordered apply of a set of objects; one entry per object, in apply order. Stage 0
 * (CRDs, Namespaces) is applied first and CRDs are waited on until Established, so that custom
 * resources in the same set resolve; then each remaining object's kind is resolved (namespace
 * defaulted or dropped by its scope) and cluster-scoped objects precede namespaced ones.
 */
export async function applyAll(ctx: ApplyContext, objects: readonly KubeObject[], opts: ApplyOptions): Promise<ChangeSet> {
  const definitions = objects.filter((o) => stageOf({ ...refOf(o), namespace: "" }) === Stage.Definitions).map(clusterScoped);
  const rest = objects.filter((o) => stageOf({ ...refOf(o), namespace: "" }) !== Stage.Definitions);

  const entries = await applyInOrder(ctx, definitions, opts);

  // CRs need their CRD Established, and discovery must learn the new kinds.
  const crds = entries.filter((e) => isCrd(e.ref) && e.action !== ChangeAction.Failed && e.action !== ChangeAction.Skipped);
  await Promise.all(
    crds.map(async (e) => {
      if (await waitForEstablished(ctx.client, e.ref.name, opts.waitTimeoutMs)) return;
      e.action = ChangeAction.Failed;
      e.reason = Reason.CrdNotEstablished;
      e.message = `${describeRef(e.ref)}: applied but not Established after ${opts.waitTimeoutMs} ms`;
    }),
  );
  if (crds.length > 0) ctx.client.discovery.invalidate();

  const resolved: KubeObject[] = [];
  const unresolved: ChangeSetEntry[] = [];
  for (const o of rest) {
    if (isReconcileDisabled(o.metadata.annotations)) {
      resolved.push(o); // applyOne reports the skip; its scope does not matter
      continue;
    }
    const scoped = await withScope(ctx.client, o, opts.defaultNamespace);
    if (scoped.ok) resolved.push(scoped.value);
    else unresolved.push(failed(o, scoped.failure));
  }
  entries.push(...(await applyInOrder(ctx, resolved, opts)), ...unresolved);
  return { entries };
}

/** The object with its namespace defaulted (namespaced kinds) or dropped (cluster-scoped kinds),
 * or an UnknownKind failure when the server does not serve its kind. */
export async function withScope(client: KubeClient, o: KubeObject, defaultNamespace: string): Promise<KubeResult<KubeObject>> {
  const info = await client.resource(o.apiVersion, o.kind);
  if (!info.ok) return info;
  if (info.value.namespaced === Boolean(o.metadata.namespace)) return ok(o);
  const copy = clone(o);
  if (info.value.namespaced) copy.metadata.namespace = defaultNamespace;
  else delete copy.metadata.namespace;
  return ok(copy);
}

function clusterScoped(o: KubeObject): KubeObject {
  if (o.metadata.namespace === undefined) return o;
  const copy = clone(o);
  delete copy.metadata.namespace;
  return copy;
}
