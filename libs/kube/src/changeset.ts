// Change sets: the result of one apply or prune, one entry per object with a closed action.
import type { ChangeAction, DriftPath, KubeObject, ObjectRef, Reason } from "@flotilla/model";
import type { ApiFailure } from "./result.js";

export interface ChangeSetEntry {
  ref: ObjectRef;
  apiVersion: string;
  action: ChangeAction;
  reason: Reason;
  /** One sentence naming the object; Secret values are masked. */
  message: string;
  /** For `configured`: the fields that change (desired = after, live = before), Secret values masked. */
  changes?: DriftPath[];
  /**
   * The object as the server holds it after this step (created, configured, unchanged): the
   * baseline to compare watch events with for drift. A Secret's values are in it: never log it.
   */
  applied?: KubeObject;
  /** The API server's failure when action is `failed`. */
  failure?: ApiFailure;
}

export interface ChangeSet {
  entries: ChangeSetEntry[];
}

export function hasFailures(cs: ChangeSet): boolean {
  return cs.entries.some((e) => e.action === "failed");
}

/** Counts per action, e.g. `{ created: 2, unchanged: 5 }`. */
export function countActions(cs: ChangeSet): Partial<Record<ChangeAction, number>> {
  const out: Partial<Record<ChangeAction, number>> = {};
  for (const e of cs.entries) out[e.action] = (out[e.action] ?? 0) + 1;
  return out;
}
