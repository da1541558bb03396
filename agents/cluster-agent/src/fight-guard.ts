// Fight detection: when something keeps rewriting a field we revert, reverting again at once
// would be a hot loop between two controllers. Each revert of an object within `windowMs` of the
// previous one doubles the wait before the next, up to `maxDelayMs`; a quiet window resets it.
// Pure: time comes in as numbers.

export interface FightGuardOptions {
  /** Reverts closer together than this count as one fight. */
  windowMs: number;
  /** Reverts allowed in a window before backing off. */
  freeReverts: number;
  initialDelayMs: number;
  maxDelayMs: number;
}

export const defaultFightGuardOptions = (): FightGuardOptions => ({
  windowMs: 30_000,
  freeReverts: 3,
  initialDelayMs: 1_000,
  maxDelayMs: 5 * 60_000,
});

interface History {
  count: number;
  lastAt: number;
}

export interface RevertDecision {
  /** Wait this long before reverting (0: now). */
  delayMs: number;
  /** True once the object counts as fought over. */
  fight: boolean;
}

export class FightGuard {
  private readonly history = new Map<string, History>();

  constructor(private readonly opts: FightGuardOptions = defaultFightGuardOptions()) {}

  /** Records a revert of `key` at `now` and says when it may happen. */
  next(key: string, now: number): RevertDecision {
    const h = this.history.get(key);
    const count = h && now - h.lastAt < this.opts.windowMs ? h.count + 1 : 1;
    this.history.set(key, { count, lastAt: now });
    if (count <= this.opts.freeReverts) return { delayMs: 0, fight: false };
    const delay = this.opts.initialDelayMs * 2 ** (count - this.opts.freeReverts - 1);
    return { delayMs: Math.min(delay, this.opts.maxDelayMs), fight: true };
  }

  forget(key: string): void {
    this.history.delete(key);
  }
}
