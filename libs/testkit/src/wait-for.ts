// Waiting on a condition with a deadline: tests and the harness poll the real thing instead of
// sleeping for a fixed time.

export interface WaitOptions {
  /** What we are waiting for, named in the timeout error. */
  what: string;
  /** Deadline in milliseconds (default 30 s). */
  timeoutMs?: number;
  /** Pause between probes in milliseconds (default 100 ms). */
  intervalMs?: number;
}

export class WaitTimeoutError extends Error {
  override readonly name = "WaitTimeoutError";
}

/**
 * Calls `probe` until it returns a value other than `undefined`/`false`, and returns that value.
 * A probe that throws is retried; its last error is reported when the deadline passes.
 */
export async function waitFor<T>(
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  opts: WaitOptions,
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? 30_000;
  const intervalMs = opts.intervalMs ?? 100;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const why = lastError instanceof Error ? `; last error: ${lastError.message}` : "";
      throw new WaitTimeoutError(`timed out after ${timeoutMs} ms waiting for ${opts.what}${why}`, {
        cause: lastError,
      });
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
