// Prune: delete the objects that left the bundle, in reverse apply order, stage by stage,
// waiting for each stage to be gone before the next (custom resources before their CRD,
// contents before their Namespace).
import type { KubeObject } from "@flotilla/model";
import { ChangeAction, Reason, describeRef, refKey } from "@flotilla/model";
import type { ChangeSet, ChangeSetEntry } from "./changeset.js";
import type { KubeClient } from "./client.js";
import { Label, isPruneDisabled } from "./conventions.js";
import type { InventoryEntry } from "./inventory.js";
import type { Owner, PruneOptions } from "./manager-options.js";
import { waitForDeleted } from "./manager-wait.js";
import { sortForPrune, stageOf } from "./ordering.js";
import type { ObjectTarget } from "./target.js";

export interface PruneResult {
  changeSet: ChangeSet;
  /** Stale entries that must stay in the inventory: rejected deletes and objects still
   * terminating. Store `[...current, ...retained]` as the new inventory. */
  retained: InventoryEntry[];
}

const targetOfEntry = (e: InventoryEntry): ObjectTarget => ({
  apiVersion: e.apiVersion,
  kind: e.ref.kind,
  name: e.ref.name,
  ...(e.ref.namespace ? { namespace: e.ref.namespace } : {}),
});

/** Why an object must not be pruned, if it must not. */
function keepReason(live: KubeObject, owner: Owner): { reason: Reason; message: string } | undefined {
  const labels = live.metadata.labels ?? {};
  const app = labels[Label.App];
  const cluster = labels[Label.Cluster];
  if ((app !== undefined && app !== owner.app) || (cluster !== undefined && cluster !== owner.cluster)) {
    return { reason: Reason.PruneSkippedOwner, message: `owned by app "${app ?? "?"}" on cluster "${cluster ?? "?"}", not ${owner.app} on ${owner.cluster}` };
  }
  if (isPruneDisabled(live.metadata.annotations)) return { reason: Reason.PruneSkippedAnnotation, message: "annotated flotilla.dev/prune: disabled" };
  return undefined;
}

export async function prune(client: KubeClient, previous: readonly InventoryEntry[], current: readonly InventoryEntry[], opts: PruneOptions): Promise<PruneResult> {
  const keep = new Set(current.map((e) => refKey(e.ref)));
  const stale = sortForPrune(previous.filter((e) => !keep.has(refKey(e.ref))), (e) => e.ref);
  const entries: ChangeSetEntry[] = [];
  const retained: InventoryEntry[] = [];

  // Stages in prune order: namespaced, then cluster-scoped, then CRDs and Namespaces.
  const stages = [...new Set(stale.map((e) => stageOf(e.ref)))];
  for (const stage of stages) {
    const pending: { e: InventoryEntry; entry: ChangeSetEntry }[] = [];
    for (const e of stale.filter((s) => stageOf(s.ref) === stage)) {
      const what = describeRef(e.ref);
      const base = { ref: e.ref, apiVersion: e.apiVersion };
      const live = await client.get(targetOfEntry(e));
      if (!live.ok) {
        entries.push({ ...base, action: ChangeAction.Failed, reason: Reason.PruneFailed, message: `${what}: not pruned: ${live.failure.message}`, failure: live.failure });
        retained.push(e);
        continue;
      }
      if (live.value === undefined) continue; // already gone: nothing to do, drops out of the inventory
      const why = keepReason(live.value, opts.owner);
      if (why) {
        entries.push({ ...base, action: ChangeAction.Skipped, reason: why.reason, message: `${what}: not pruned: ${why.message}` });
        continue;
      }
      const del = await client.delete(targetOfEntry(e), { propagationPolicy: opts.propagationPolicy });
      if (!del.ok) {
        entries.push({ ...base, action: ChangeAction.Failed, reason: Reason.PruneFailed, message: `${what}: delete rejected: ${del.failure.message}`, failure: del.failure });
        retained.push(e);
        continue;
      }
      const entry: ChangeSetEntry = { ...base, action: ChangeAction.Deleted, reason: Reason.Pruned, message: `${what}: pruned` };
      entries.push(entry);
      pending.push({ e, entry });
    }
    const left = new Set(
      (await waitForDeleted(client, pending.map((p) => targetOfEntry(p.e)), opts.waitTimeoutMs)).map((t) => `${t.kind}/${t.namespace ?? ""}/${t.name}`),
    );
    for (const p of pending) {
      if (!left.has(`${p.e.ref.kind}/${p.e.ref.namespace}/${p.e.ref.name}`)) continue;
      p.entry.message = `${describeRef(p.e.ref)}: deletion requested, still terminating after ${opts.waitTimeoutMs} ms`;
      retained.push(p.e);
    }
  }
  return { changeSet: { entries }, retained };
}
