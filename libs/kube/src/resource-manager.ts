// ResourceManager: the apply engine's verbs over one cluster, in the style of Flux's ssa
// package. Each verb lives in its own file (manager-apply, manager-diff, manager-prune,
// manager-wait, inventory); this class only binds them to a client and a field manager.
import type { KubeObject } from "@flotilla/model";
import { ChangeAction, Reason, describeRef, refOf } from "@flotilla/model";
import type { ChangeSet, ChangeSetEntry } from "./changeset.js";
import type { KubeClient } from "./client.js";
import { DEFAULT_FIELD_MANAGER, Label, TAKE_OVER_MANAGERS } from "./conventions.js";
import { readInventory, writeInventory, type InventoryEntry } from "./inventory.js";
import { applyAll, applyOne, failed, withScope } from "./manager-apply.js";
import { planApply } from "./manager-diff.js";
import { defaultApplyOptions, defaultPruneOptions, type ApplyOptions, type Owner, type PruneOptions } from "./manager-options.js";
import { prune, type PruneResult } from "./manager-prune.js";
import { waitForDeleted, waitForEstablished, waitForReady, type WaitForReadyOptions, type WaitForReadyResult } from "./manager-wait.js";
import type { KubeResult } from "./result.js";
import type { ObjectTarget } from "./target.js";
import { takeOverPatch } from "./take-over.js";

export interface ResourceManagerOptions {
  /** Server-side apply field manager (default `flotilla`). */
  fieldManager?: string;
  /** Namespace holding inventories (default `flotilla-system`). */
  inventoryNamespace?: string;
}

export class ResourceManager {
  readonly fieldManager: string;
  readonly inventoryNamespace: string;

  constructor(readonly client: KubeClient, opts: ResourceManagerOptions = {}) {
    this.fieldManager = opts.fieldManager ?? DEFAULT_FIELD_MANAGER;
    this.inventoryNamespace = opts.inventoryNamespace ?? "flotilla-system";
  }

  private get ctx() {
    return { client: this.client, fieldManager: this.fieldManager };
  }

  /** Staged, ordered apply of a set of objects (see manager-apply.ts). Never throws for API errors. */
  applyAll(objects: readonly KubeObject[], opts: Partial<ApplyOptions> = {}): Promise<ChangeSet> {
    return applyAll(this.ctx, objects, { ...defaultApplyOptions(), ...opts });
  }

  /** Applies one object (no staging: its namespace and CRD must exist). */
  async apply(o: KubeObject, opts: Partial<ApplyOptions> = {}): Promise<ChangeSetEntry> {
    const options = { ...defaultApplyOptions(), ...opts };
    const scoped = await withScope(this.client, o, options.defaultNamespace);
    if (!scoped.ok) return failed(o, scoped.failure);
    return applyOne(this.ctx, scoped.value, options);
  }

  /** What applying `o` would do, without writing: action created/configured/unchanged/failed and
   * the fields that would change (Secret values masked). */
  async diff(o: KubeObject, opts: { owner?: Owner; force?: boolean; defaultNamespace?: string } = {}): Promise<ChangeSetEntry> {
    const scoped = await withScope(this.client, o, opts.defaultNamespace ?? defaultApplyOptions().defaultNamespace);
    if (!scoped.ok) return failed(o, scoped.failure);
    const s = scoped.value;
    const desired = opts.owner ? { ...s, metadata: { ...s.metadata, labels: { ...s.metadata.labels, [Label.App]: opts.owner.app, [Label.Cluster]: opts.owner.cluster } } } : s;
    const what = describeRef(refOf(s));
    const base = { ref: refOf(s), apiVersion: s.apiVersion };
    const plan = await planApply(this.client, desired, this.fieldManager, opts.force ?? true);
    switch (plan.kind) {
      case "failed":
        return failed(s, plan.failure);
      case "create":
        return { ...base, action: ChangeAction.Created, reason: Reason.Applied, message: `${what}: would be created` };
      case "unchanged":
        if (takeOverPatch(plan.live, this.fieldManager, TAKE_OVER_MANAGERS)) {
          return { ...base, action: ChangeAction.Configured, reason: Reason.Applied, message: `${what}: would take over fields from kubectl`, changes: [] };
        }
        return { ...base, action: ChangeAction.Unchanged, reason: Reason.NoChange, message: `${what}: unchanged`, applied: plan.live };
      case "update":
        return { ...base, action: ChangeAction.Configured, reason: Reason.Applied, message: `${what}: would change ${plan.changes.map((c) => c.path).join(", ")}`, changes: plan.changes };
    }
  }

  /** Deletes inventory entries of `previous` that are not in `current` (see manager-prune.ts). */
  prune(previous: readonly InventoryEntry[], current: readonly InventoryEntry[], opts: Partial<PruneOptions> & { owner: Owner }): Promise<PruneResult> {
    return prune(this.client, previous, current, { ...defaultPruneOptions(opts.owner), ...opts });
  }

  readInventory(app: string): Promise<KubeResult<InventoryEntry[]>> {
    return readInventory(this.client, this.inventoryNamespace, app);
  }

  writeInventory(app: string, entries: readonly InventoryEntry[]): Promise<KubeResult<void>> {
    return writeInventory(this.client, this.inventoryNamespace, app, entries, this.fieldManager);
  }

  /** Waits until the targets are gone; returns those still present at the timeout. */
  waitForDeleted(targets: readonly ObjectTarget[], timeoutMs = 60_000): Promise<ObjectTarget[]> {
    return waitForDeleted(this.client, targets, timeoutMs);
  }

  waitForEstablished(crdName: string, timeoutMs = 60_000): Promise<boolean> {
    return waitForEstablished(this.client, crdName, timeoutMs);
  }

  /** Waits until every target is ready by `isReady` (see manager-wait.ts); cancellable. */
  waitForReady(targets: readonly ObjectTarget[], isReady: (live: KubeObject | undefined) => boolean, opts: WaitForReadyOptions): Promise<WaitForReadyResult> {
    return waitForReady(this.client, targets, isReady, opts);
  }
}
