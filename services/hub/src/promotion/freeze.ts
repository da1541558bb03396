// Freeze windows: when no promotion wave may start. A `deny` window blocks while it is open; when
// an environment has `allow` windows, waves start only inside one of them. Rollbacks pass a deny
// window unless it says `allowRollback: false`: getting back to the last good release is what a
// freeze is there to protect, not to prevent.
import type { FreezeWindow } from "@flotilla/model";

export interface FreezeState {
  blocked: boolean;
  /** The window that blocks (for messages). */
  window?: FreezeWindow;
  /** When the block lifts on its own (ISO time), when known. */
  until?: string;
}

const DAY_NAMES = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
const DAY_MS = 86_400_000;

/** Is a wave of this kind (`rollback` or not) blocked at `now`? */
export function freezeState(windows: readonly FreezeWindow[], now: Date, rollback: boolean): FreezeState {
  for (const w of windows) {
    if (w.kind !== "deny") continue;
    if (rollback && w.allowRollback !== false) continue;
    const open = openInterval(w, now);
    if (open) return { blocked: true, window: w, until: new Date(open.end).toISOString() };
  }
  const allows = windows.filter((w) => w.kind === "allow" && !(rollback && w.allowRollback !== false));
  if (allows.length && !allows.some((w) => openInterval(w, now))) {
    const next = allows.map((w) => nextStart(w, now)).filter((t): t is number => t !== undefined).sort((a, b) => a - b)[0];
    return { blocked: true, window: allows[0]!, ...(next !== undefined ? { until: new Date(next).toISOString() } : {}) };
  }
  return { blocked: false };
}

/** The interval of `w` that contains `now`, if any (epoch ms). */
function openInterval(w: FreezeWindow, now: Date): { start: number; end: number } | undefined {
  const t = now.getTime();
  if (w.start && w.end) {
    const start = Date.parse(w.start);
    const end = Date.parse(w.end);
    return t >= start && t < end ? { start, end } : undefined;
  }
  // Weekly: check today's occurrence and yesterday's (a window from 22:00 to 06:00 spans midnight).
  for (const back of [0, 1]) {
    const day = startOfUtcDay(t) - back * DAY_MS;
    const occurrence = weeklyOccurrence(w, day);
    if (occurrence && t >= occurrence.start && t < occurrence.end) return occurrence;
  }
  return undefined;
}

function weeklyOccurrence(w: FreezeWindow, dayStart: number): { start: number; end: number } | undefined {
  if (!w.days || !w.from || !w.to) return undefined;
  if (!w.days.includes(DAY_NAMES[new Date(dayStart).getUTCDay()]!)) return undefined;
  const start = dayStart + minutes(w.from) * 60_000;
  let end = dayStart + minutes(w.to) * 60_000;
  if (end <= start) end += DAY_MS; // spans midnight
  return { start, end };
}

function nextStart(w: FreezeWindow, now: Date): number | undefined {
  const t = now.getTime();
  if (w.start) return Date.parse(w.start) > t ? Date.parse(w.start) : undefined;
  for (let d = 0; d <= 7; d++) {
    const occurrence = weeklyOccurrence(w, startOfUtcDay(t) + d * DAY_MS);
    if (occurrence && occurrence.start > t) return occurrence.start;
  }
  return undefined;
}

const startOfUtcDay = (t: number) => t - (t % DAY_MS);
const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));
