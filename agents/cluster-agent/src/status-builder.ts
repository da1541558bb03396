// Builds the status body an agent reports from its change sets and the live objects it watches.
import { computeHealth, aggregateHealth } from "@flotilla/health";
import type { ChangeSetEntry } from "@flotilla/kube";
import {
  ChangeAction,
  Health,
  Reason,
  SyncState,
  refKey,
  refOf,
  type AppStatus,
  type BundleApp,
  type ErrorInfo,
  type KubeObject,
  type ObjectStatus,
} from "@flotilla/model";
import type { StatusBody, VerifiedDesired } from "./ports.js";

export interface AppResult {
  name: string;
  entries: ChangeSetEntry[];
}

/** Container images of a pod-bearing object (pod template or pod spec), in order. */
export function imagesOf(o: KubeObject | undefined): string[] | undefined {
  if (!o) return undefined;
  const spec = (o as { spec?: Record<string, unknown> }).spec;
  const template = (spec?.["template"] as { spec?: Record<string, unknown> } | undefined)?.spec;
  const jobTemplate = ((spec?.["jobTemplate"] as { spec?: Record<string, unknown> } | undefined)?.spec?.["template"] as { spec?: Record<string, unknown> } | undefined)?.spec;
  const podSpec = template ?? jobTemplate ?? (o.kind === "Pod" ? spec : undefined);
  if (!podSpec) return undefined;
  const images: string[] = [];
  for (const field of ["initContainers", "containers"]) {
    const list = podSpec[field];
    if (Array.isArray(list)) for (const c of list) if (typeof (c as { image?: unknown }).image === "string") images.push((c as { image: string }).image);
  }
  return images.length ? images : undefined;
}

/** The objects of a revision being applied, each a `skipped` entry with reason Pending: what the
 * Applying status lists until the apply's own change set replaces it, so that a status of one
 * generation never describes the objects of another. */
export function pendingResults(apps: readonly BundleApp[]): AppResult[] {
  return apps.map((app) => ({
    name: app.name,
    entries: app.objects.map((o) => ({
      ref: refOf(o),
      apiVersion: o.apiVersion,
      action: ChangeAction.Skipped,
      reason: Reason.Pending,
      message: "pending: this revision is being applied",
    })),
  }));
}

const isPending = (e: ChangeSetEntry): boolean => e.action === ChangeAction.Skipped && e.reason === Reason.Pending;

export function buildStatus(
  desired: VerifiedDesired,
  results: AppResult[],
  live: (key: string) => KubeObject | undefined,
  opts: {
    applying: boolean;
    lastError?: ErrorInfo;
    /** Reported in lastError (when there is no lastError) without failing the sync, e.g. a
     * refused break-glass control record. */
    notice?: ErrorInfo;
    observedRevision?: string;
  },
): StatusBody {
  const apps: AppStatus[] = results.map((app) => {
    const objects: ObjectStatus[] = app.entries.map((e) => {
      // Not applied yet: the live object (if any) is still the previous revision's.
      if (isPending(e)) return { ref: e.ref, action: e.action, reason: e.reason, ...(e.message ? { message: e.message } : {}), health: Health.Progressing, healthReason: Reason.Pending };
      const key = refKey(e.ref);
      const obj = live(key) ?? e.applied;
      const h = e.action === "failed" && !obj ? { health: Health.Missing, reason: e.reason, message: e.message } : computeHealth(obj);
      const images = imagesOf(obj);
      return {
        ref: e.ref,
        action: e.action,
        reason: e.reason,
        ...(e.message ? { message: e.message } : {}),
        health: h.health,
        healthReason: h.reason,
        ...(images ? { images } : {}),
      };
    });
    return { name: app.name, health: aggregateHealth(objects.map((o) => o.health)), objects };
  });
  const failed = results.some((a) => a.entries.some((e) => e.action === "failed"));
  const syncState = opts.applying ? SyncState.Applying : failed || opts.lastError ? SyncState.Failed : SyncState.Synced;
  return {
    generation: desired.pointer.generation,
    revision: desired.pointer.revision,
    bundleDigest: desired.pointer.bundleDigest,
    ...(opts.observedRevision ? { observedRevision: opts.observedRevision } : {}),
    syncState,
    // While a revision is being applied nothing of it is healthy yet: Progressing, whatever the
    // objects already applied (or left from the previous revision) look like.
    health: opts.applying ? Health.Progressing : apps.length ? aggregateHealth(apps.map((a) => a.health)) : Health.Healthy,
    apps,
    ...(opts.lastError ? { lastError: opts.lastError } : opts.notice ? { lastError: opts.notice } : {}),
  };
}
