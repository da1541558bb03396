// The shape of one health assessment and small constructors for it.
import { Health, Reason } from "@flotilla/model";

export interface HealthResult {
  health: Health;
  /** A Reason constant (kstatus-like), e.g. `LessReady`, `ProgressDeadlineExceeded`. */
  reason: string;
  /** One human sentence naming what is (not) ready. */
  message: string;
}

export const healthy = (message: string): HealthResult => ({ health: Health.Healthy, reason: Reason.Current, message });
export const progressing = (reason: string, message: string): HealthResult => ({ health: Health.Progressing, reason, message });
export const degraded = (reason: string, message: string): HealthResult => ({ health: Health.Degraded, reason, message });
export const suspended = (message: string): HealthResult => ({ health: Health.Suspended, reason: Reason.Suspended, message });
