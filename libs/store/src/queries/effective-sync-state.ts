// What the hub says about a cluster's sync state, from what the agent said and when. Pure.
import { Health, SyncState } from "@flotilla/model";

export interface SyncInputs {
  /** The agent's latest status (null if it never reported one). */
  status: { generation: number; syncState: SyncState; health: Health } | null;
  /** The latest heartbeat (null if none arrived). */
  heartbeat: { at: Date; deadlineSeconds: number } | null;
  /** Generation of the current desired pointer (null if none was issued). */
  desiredGeneration: number | null;
  now: Date;
}

export interface EffectiveSync {
  syncState: SyncState;
  health: Health;
  /** True when the last heartbeat is older than its deadline (or none arrived). */
  silent: boolean;
}

export function effectiveSync({ status, heartbeat, desiredGeneration, now }: SyncInputs): EffectiveSync {
  const silent = heartbeat === null || now.getTime() - heartbeat.at.getTime() > heartbeat.deadlineSeconds * 1000;
  // An agent silent past its deadline: what it last said may no longer be true.
  if (silent || status === null) return { syncState: SyncState.Unknown, health: Health.Unknown, silent };
  // Status for an older generation never counts as status for the newer one.
  if (desiredGeneration !== null && status.generation < desiredGeneration) {
    return { syncState: SyncState.OutOfSync, health: status.health, silent };
  }
  return { syncState: status.syncState, health: status.health, silent };
}
