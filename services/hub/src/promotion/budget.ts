// Failure budgets and wave settlement: how many clusters may fail before a promotion halts, and
// when a wave is done. Pure.
import { ClusterOutcome, FAILED_OUTCOMES } from "@flotilla/model";

export interface WaveTally {
  succeeded: number;
  failed: number;
  skipped: number;
  regressed: number;
  /** Pending, Issued, Progressing or Unknown: the wave is not settled while any is left. */
  waiting: number;
  unknown: number;
}

export function tally(outcomes: readonly ClusterOutcome[]): WaveTally {
  const t: WaveTally = { succeeded: 0, failed: 0, skipped: 0, regressed: 0, waiting: 0, unknown: 0 };
  for (const o of outcomes) {
    if (o === ClusterOutcome.Succeeded) t.succeeded++;
    else if (o === ClusterOutcome.Skipped) t.skipped++;
    else if (FAILED_OUTCOMES.includes(o)) {
      t.failed++;
      if (o === ClusterOutcome.Regressed) t.regressed++;
    } else {
      t.waiting++;
      if (o === ClusterOutcome.Unknown) t.unknown++;
    }
  }
  return t;
}

export interface BudgetInput {
  wave: WaveTally;
  waveBudget: number;
  /** Failed clusters across every wave started so far. */
  totalFailed: number;
  totalBudget: number;
}

/** Why the promotion must halt, or undefined. A regression (a cluster that had succeeded going bad) always halts. */
export function budgetBreach(b: BudgetInput): string | undefined {
  if (b.wave.regressed > 0) return `${b.wave.regressed} cluster(s) regressed after succeeding`;
  if (b.wave.failed > b.waveBudget) return `${b.wave.failed} failed cluster(s) in this wave, budget ${b.waveBudget}`;
  if (b.totalFailed > b.totalBudget) return `${b.totalFailed} failed cluster(s) in total, budget ${b.totalBudget}`;
  return undefined;
}

/** A wave is settled once no cluster is waiting: each Succeeded, Skipped, or failed within budget. */
export const settled = (t: WaveTally): boolean => t.waiting === 0;
