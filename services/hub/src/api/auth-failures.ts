// Failed authentication attempts per client address. After `limit` failures inside `windowMs` the
// address is locked out until the window ends: every request from it then gets 429, a valid token
// included, or the lockout would still let a guesser tell a hit from a miss.
export interface AuthFailureLimit {
  /** Failures allowed per window (default 10). */
  limit: number;
  /** Window length in milliseconds (default 60 s). */
  windowMs: number;
}

export const DEFAULT_AUTH_FAILURE_LIMIT: AuthFailureLimit = { limit: 10, windowMs: 60_000 };
/** Addresses tracked at once; beyond it the oldest windows are forgotten (memory stays bounded). */
const MAX_TRACKED = 10_000;

interface Window {
  startedAt: number;
  failures: number;
}

export class AuthFailures {
  private readonly windows = new Map<string, Window>();

  constructor(private readonly policy: AuthFailureLimit = DEFAULT_AUTH_FAILURE_LIMIT) {}

  /** Milliseconds until the address may try again, or 0 when it is not locked out. */
  lockedFor(address: string, now: number): number {
    const w = this.current(address, now);
    return w && w.failures >= this.policy.limit ? w.startedAt + this.policy.windowMs - now : 0;
  }

  /** Counts a failure; returns how many the address has in its current window. */
  record(address: string, now: number): number {
    let w = this.current(address, now);
    if (!w) {
      if (this.windows.size >= MAX_TRACKED) this.windows.delete(this.windows.keys().next().value!);
      w = { startedAt: now, failures: 0 };
      this.windows.set(address, w);
    }
    w.failures += 1;
    return w.failures;
  }

  private current(address: string, now: number): Window | undefined {
    const w = this.windows.get(address);
    if (w && now - w.startedAt >= this.policy.windowMs) {
      this.windows.delete(address);
      return undefined;
    }
    return w;
  }
}
