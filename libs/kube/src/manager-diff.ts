// What an apply would do, found without writing: server-side dry-run apply compared with the
// live object (see compare.ts).
import type { DriftPath, KubeObject } from "@flotilla/model";
import type { KubeClient } from "./client.js";
import { changedPaths, sameLiveState } from "./compare.js";
import type { ApiFailure } from "./result.js";
import { targetOf } from "./target.js";

export type ApplyPlan =
  | { kind: "create"; dryRun: KubeObject }
  | { kind: "update"; dryRun: KubeObject; live: KubeObject; changes: DriftPath[] }
  | { kind: "unchanged"; live: KubeObject }
  | { kind: "failed"; failure: ApiFailure };

/** Plans the apply of one prepared object (`live` when the caller already fetched it). */
export async function planApply(client: KubeClient, o: KubeObject, fieldManager: string, force: boolean, live?: KubeObject | null): Promise<ApplyPlan> {
  let current = live ?? undefined;
  if (live === undefined) {
    const got = await client.get(targetOf(o));
    if (!got.ok) return { kind: "failed", failure: got.failure };
    current = got.value;
  }
  const dry = await client.apply(o, { fieldManager, force, dryRun: true });
  if (!dry.ok) return { kind: "failed", failure: dry.failure };
  if (current === undefined) return { kind: "create", dryRun: dry.value };
  if (sameLiveState(dry.value, current, fieldManager)) return { kind: "unchanged", live: current };
  return { kind: "update", dryRun: dry.value, live: current, changes: changedPaths(dry.value, current) };
}
