// Retry pacing for everything the agent does over NATS: exponential, capped, jittered, and
// cancellable so stop() and "NATS is back" never wait out a long sleep.

export interface RetryOptions {
  /** First delay after a failure. */
  initialMs: number;
  /** Ceiling of the delay. */
  maxMs: number;
}

export const DEFAULT_RETRY: RetryOptions = { initialMs: 200, maxMs: 10_000 };

export class RetryBackoff {
  private attempt = 0;
  private wakeUp: (() => void) | undefined;

  constructor(private readonly opts: RetryOptions = DEFAULT_RETRY) {}

  /** The delay the next wait() will sleep: initial × 2^attempt, capped, with ±20 % jitter. */
  nextDelayMs(): number {
    const base = Math.min(this.opts.maxMs, this.opts.initialMs * 2 ** Math.min(this.attempt, 30));
    return Math.round(base * (0.8 + Math.random() * 0.4));
  }

  /** Sleeps the next delay; resolves early on wake(). Resolves true when woken early. */
  wait(): Promise<boolean> {
    const ms = this.nextDelayMs();
    this.attempt++;
    return new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => {
        this.wakeUp = undefined;
        resolve(false);
      }, ms);
      this.wakeUp = () => {
        clearTimeout(timer);
        this.wakeUp = undefined;
        resolve(true);
      };
    });
  }

  /** Ends a pending wait() now (stop, reconnect, new work). */
  wake(): void {
    this.wakeUp?.();
  }

  /** After a success the next failure starts from the initial delay again. */
  reset(): void {
    this.attempt = 0;
  }
}
