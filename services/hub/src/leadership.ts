// The hub's leader role among replicas: one lease (leader-lease.ts, a Postgres advisory lock)
// polled every pollMs. The leader runs the resolver and the promotion controller; a follower
// serves the API and ingests reports, and runs neither loop.
//
//   follower → lease taken → "hub gained leadership" → onGain (a full refresh, then the poll loop)
//   leader   → lease lost  → fence closed at once   → "hub lost leadership" → onLose (loops stop)
//
// Transitions run one after the other (a loss seen during onGain's refresh is handled when that
// refresh ends); the fence does not wait for them: it answers from the lease right away, so a
// resolve in flight on a deposed leader publishes nothing more.
import type { LeaderLease } from "./leader.js";
import type { ResolverLogger } from "./resolver.js";
import { setLeaderGauge } from "./telemetry.js";

export const DEFAULT_LEADER_POLL_MS = 1_000;

export type HubRole = "leader" | "follower";

export interface LeadershipOptions {
  lease: LeaderLease;
  /** How often the lease is checked (taken when free); default 1 s. */
  pollMs?: number;
  onGain(): Promise<void>;
  onLose(): Promise<void>;
  logger: ResolverLogger;
}

export interface Leadership {
  /** This replica's identity. */
  readonly identity: string;
  role(): HubRole;
  /** May this replica publish right now? A round trip to Postgres (LeaderLease.confirm). */
  fence(): Promise<boolean>;
  /** The leader's identity (this replica's when it leads), undefined when none leads. */
  leader(): Promise<string | undefined>;
  /** Checks the lease once and runs the transition it calls for (start() awaits the first). */
  poll(): Promise<void>;
  /** The first poll (and its transition), then one every pollMs. */
  start(): Promise<void>;
  /** Stops polling; a leader runs onLose. The lease itself is closed by its owner. */
  stop(): Promise<void>;
}

export function createLeadership(opts: LeadershipOptions): Leadership {
  const { lease, logger: log } = opts;
  const pollMs = opts.pollMs ?? DEFAULT_LEADER_POLL_MS;
  let leading = false;
  // What onGain/onLose last ran for: transitions follow the lease, serialised on this chain.
  let acted = false;
  let chain: Promise<void> = Promise.resolve();
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  function transition(): Promise<void> {
    chain = chain.then(async () => {
      if (leading === acted) return;
      acted = leading;
      try {
        await (acted ? opts.onGain() : opts.onLose());
      } catch (err) {
        log.error({ err: String(err), role: acted ? "leader" : "follower" }, "leadership transition failed");
      }
    });
    return chain;
  }

  /** Checks the lease; returns once it answered, with the transition it started. */
  async function observe(): Promise<{ transitioned: Promise<void> }> {
    if (stopped) return { transitioned: chain };
    const held = await lease.isLeader();
    if (!stopped && held !== leading) {
      leading = held;
      setLeaderGauge(lease.identity, held);
      if (held) log.info({ identity: lease.identity }, "hub gained leadership");
      else log.warn({ identity: lease.identity }, "hub lost leadership; stopped publishing");
    }
    return { transitioned: transition() };
  }

  const poll = async () => (await observe()).transitioned;

  function arm(): void {
    if (stopped) return;
    timer = setTimeout(() => {
      // The transition is not awaited: a long onGain (the full refresh) must not delay the next
      // check, which is what notices a loss while it runs.
      void observe().finally(arm);
    }, pollMs);
    timer.unref?.();
  }

  return {
    identity: lease.identity,
    role: () => (leading ? "leader" : "follower"),
    async fence() {
      if (!leading) return false;
      const ok = await lease.confirm();
      if (!ok && leading) void observe();
      return ok && leading;
    },
    async leader() {
      return leading ? lease.identity : lease.holder();
    },
    poll,
    async start() {
      setLeaderGauge(lease.identity, false);
      await poll();
      arm();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      if (leading) {
        leading = false;
        setLeaderGauge(lease.identity, false);
        log.info({ identity: lease.identity }, "hub lost leadership; stopping");
      }
      await transition();
    },
  };
}
