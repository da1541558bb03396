// Drift of one live object against what we applied: the differing fields (diffLive) and who
// changed them (driftActor). Pure; the agent calls it on every watch event of an object it owns.
import type { DriftPath, IgnoreRule, KubeObject } from "@flotilla/model";
import { diffLive } from "./diff.js";
import { driftActor, type DriftActor } from "./managed-fields.js";

export interface DriftOptions {
  /** The object as the server returned it after our apply (ChangeSetEntry.applied). */
  baseline?: KubeObject;
  ignore?: readonly IgnoreRule[];
  /** Our field manager: never named as the actor. */
  fieldManager: string;
}

export interface Drift {
  /** Differing fields the desired object sets; Secret values masked. */
  paths: DriftPath[];
  /** The other field manager owning them now, when managedFields tell. */
  actor?: DriftActor;
}

/** The drift of `live` from `desired`, or undefined when there is none. */
export function detectDrift(desired: KubeObject, live: KubeObject, opts: DriftOptions): Drift | undefined {
  const paths = diffLive(desired, live, { ...(opts.baseline ? { baseline: opts.baseline } : {}), ...(opts.ignore ? { ignore: opts.ignore } : {}) });
  if (paths.length === 0) return undefined;
  const actor = driftActor(live, paths.map((p) => p.path), opts.fieldManager);
  return actor ? { paths, actor } : { paths };
}
