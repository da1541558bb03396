// Periodic heartbeats: the hub marks a cluster Unknown when none arrives within deadlineSeconds.
import type { Reporter } from "./ports.js";

export interface HeartbeatOptions {
  intervalMs: number;
  /** The generation the agent currently holds (0 before the first verified pointer). */
  generation: () => number;
  /** Seconds after which the hub gives up on the agent; default three intervals. */
  deadlineSeconds?: number;
  /** A generation() that throws skips one beat and lands here (a timer must not crash the agent). */
  onError?: (err: unknown) => void;
}

export interface HeartbeatTimer {
  stop(): void;
}

/** Sends one heartbeat now and then one every interval until stop(). The timer never keeps the process alive. */
export function startHeartbeats(reporter: Reporter, opts: HeartbeatOptions): HeartbeatTimer {
  const deadlineSeconds = opts.deadlineSeconds ?? Math.max(1, Math.ceil((3 * opts.intervalMs) / 1000));
  const beat = (): void => {
    try {
      reporter.heartbeat({ generation: opts.generation(), deadlineSeconds });
    } catch (err) {
      opts.onError?.(err);
    }
  };
  beat();
  const timer = setInterval(beat, opts.intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
