// Each fault test's figures: one line on stdout ("[fault-campaign] {...}"), and appended as a JSON
// line to $FLOTILLA_FAULTS_OUT when set (docs/faults.md's table is made from these). Recovery is a
// figure, never an assertion (timing on a shared 2-core machine is not a test result).
import { appendFileSync } from "node:fs";

export interface FaultFigures {
  fault: string;
  sent: number;
  lost: number;
  duplicated: number;
  spurious: number;
  /** From the faulted component back (or the fault's end) to every report stored and the cluster Synced. */
  recoveryMs: number;
}

/** Extra figures (numbers) a fault adds to its line, e.g. what was in flight when it struck. */
export function recordFault(f: FaultFigures & Record<string, unknown>): void {
  const line = JSON.stringify({ ...f, at: new Date().toISOString() });
  console.log(`[fault-campaign] ${line}`);
  if (process.env.FLOTILLA_FAULTS_OUT) appendFileSync(process.env.FLOTILLA_FAULTS_OUT, `${line}\n`);
}
