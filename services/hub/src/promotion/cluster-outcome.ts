// One cluster's outcome within a promotion, from what its agent reported. Only a report about the
// pointer this promotion issued counts (its generation and bundle digest): a Healthy report for the
// old bundle says nothing about the new one. A silent agent is Unknown, never a success.
import { ClusterOutcome, Health, SyncState } from "@flotilla/model";

export interface ExpectedPointer {
  generation: number;
  bundleDigest: string;
  issuedAt: Date;
}

export interface ReportedStatus {
  generation: number;
  bundleDigest: string;
  syncState: SyncState;
  health: Health;
  reportedAt: Date;
}

export interface OutcomeInput {
  previous: ClusterOutcome;
  /** Since when the cluster has been Applied + Healthy on the expected pointer, if it has. */
  healthySince: Date | undefined;
  expected: ExpectedPointer;
  status: ReportedStatus | undefined;
  /** The agent's last heartbeat or report, whichever is later. */
  lastSeenAt: Date | undefined;
  now: Date;
  progressDeadlineMs: number;
  minHealthyMs: number;
  unknownAfterMs: number;
}

export interface OutcomeResult {
  outcome: ClusterOutcome;
  healthySince: Date | undefined;
  /** Why, for the API and the event stream. */
  message: string;
}

/** Outcomes the controller never changes again within a promotion. */
const STICKY: readonly ClusterOutcome[] = [ClusterOutcome.Skipped, ClusterOutcome.Failed, ClusterOutcome.TimedOut, ClusterOutcome.Regressed];

export function clusterOutcome(i: OutcomeInput): OutcomeResult {
  if (STICKY.includes(i.previous)) return { outcome: i.previous, healthySince: i.healthySince, message: `stays ${i.previous}` };
  const now = i.now.getTime();
  const sinceIssued = now - i.expected.issuedAt.getTime();
  const s = i.status;
  const onExpected = s !== undefined && s.generation === i.expected.generation && s.bundleDigest === i.expected.bundleDigest;

  // A silent agent: neither success nor failure, whatever it last said.
  const lastSeen = i.lastSeenAt?.getTime();
  if (lastSeen === undefined ? sinceIssued > i.unknownAfterMs : now - lastSeen > i.unknownAfterMs) {
    const heard = lastSeen === undefined ? "never heard from" : `silent for ${Math.round((now - lastSeen) / 1000)} s`;
    return { outcome: ClusterOutcome.Unknown, healthySince: undefined, message: `agent ${heard} (unknownAfter ${Math.round(i.unknownAfterMs / 1000)} s)` };
  }
  if (!onExpected) {
    if (sinceIssued > i.progressDeadlineMs) {
      return { outcome: ClusterOutcome.TimedOut, healthySince: undefined, message: `no report for generation ${i.expected.generation} within the progress deadline` };
    }
    return { outcome: ClusterOutcome.Issued, healthySince: undefined, message: `pointer generation ${i.expected.generation} issued; waiting for the agent` };
  }
  if (s.health === Health.Degraded || s.syncState === SyncState.Failed) {
    const what = s.syncState === SyncState.Failed ? "apply failed" : "Degraded";
    if (i.previous === ClusterOutcome.Succeeded) return { outcome: ClusterOutcome.Regressed, healthySince: undefined, message: `${what} after it had succeeded` };
    return { outcome: ClusterOutcome.Failed, healthySince: undefined, message: `${what} on generation ${i.expected.generation}` };
  }
  if (s.syncState === SyncState.Synced && s.health === Health.Healthy) {
    const since = i.healthySince ?? i.now;
    if (i.previous === ClusterOutcome.Succeeded || now - since.getTime() >= i.minHealthyMs) {
      return { outcome: ClusterOutcome.Succeeded, healthySince: since, message: "applied and healthy" };
    }
    return { outcome: ClusterOutcome.Progressing, healthySince: since, message: "applied and healthy; waiting for minHealthy" };
  }
  if (i.previous === ClusterOutcome.Succeeded) {
    // Healthy before, Progressing now (a restart, a scale): not a regression yet, but no longer done.
    return { outcome: ClusterOutcome.Progressing, healthySince: undefined, message: `${s.syncState}/${s.health} after it had succeeded` };
  }
  if (sinceIssued > i.progressDeadlineMs) {
    return { outcome: ClusterOutcome.TimedOut, healthySince: undefined, message: `still ${s.syncState}/${s.health} at the progress deadline` };
  }
  return { outcome: ClusterOutcome.Progressing, healthySince: undefined, message: `${s.syncState}/${s.health}` };
}
