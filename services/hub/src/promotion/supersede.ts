// Which queued promotions give way to a newer release. Pure.
//
// The queue of an (app, environment) runs only the newest release: a promotion that has not
// started gives way to an open promotion of a newer release of the same app into the same
// environment (Kargo users ask for this so a burst of releases does not roll out one by one,
// akuity/kargo#3108). "Not started" means before its plan: Pending, or Paused or Errored while it
// was Pending. A promotion that has a plan may already have pushed a wave commit (a crash between
// push and record leaves commits empty), so it is never superseded: it finishes, halts or is
// aborted. Rollbacks neither supersede nor are superseded: they restore what a person asked back.
import { PromotionKind, PromotionState } from "@flotilla/model";

export interface QueueEntry {
  id: string;
  app: string;
  environment: string;
  kind: PromotionKind;
  state: PromotionState;
  pausedFrom: PromotionState | null;
  committed: boolean;
  releaseId: string;
  /** The release's creation time (ISO): what "newer" means. */
  releaseCreatedAt: string;
}

export interface Supersession {
  id: string;
  by: string;
  byRelease: string;
}

const notStarted = (e: QueueEntry): boolean =>
  !e.committed && (e.state === PromotionState.Pending || ((e.state === PromotionState.Paused || e.state === PromotionState.Errored) && e.pausedFrom === PromotionState.Pending));

/** Release order: creation time, then id (two releases of the same millisecond still order). */
const newer = (a: QueueEntry, b: QueueEntry): boolean =>
  a.releaseCreatedAt === b.releaseCreatedAt ? a.releaseId > b.releaseId : new Date(a.releaseCreatedAt).getTime() > new Date(b.releaseCreatedAt).getTime();

/** The promotions to supersede among the open ones, each with the promotion of the newest release of its queue. */
export function supersessions(open: readonly QueueEntry[]): Supersession[] {
  const newest = new Map<string, QueueEntry>();
  const forward = open.filter((e) => e.kind === PromotionKind.Promote);
  for (const e of forward) {
    const key = `${e.app}\u0000${e.environment}`;
    const n = newest.get(key);
    if (!n || newer(e, n)) newest.set(key, e);
  }
  const out: Supersession[] = [];
  for (const e of forward) {
    const n = newest.get(`${e.app}\u0000${e.environment}`)!;
    if (n.id !== e.id && notStarted(e) && newer(n, e)) out.push({ id: e.id, by: n.id, byRelease: n.releaseId });
  }
  return out;
}
