// Where the CPU of a bench phase went: CPU seconds (utime + stime from /proc) per named group of
// processes between two snapshots, next to the machine's busy CPU over the same wall time (from
// /proc/stat), so a phase can be read as "bound by the cores" (busy ≈ cores × wall) or not.
import { readFile } from "node:fs/promises";
import { execFile } from "node:child_process";
import { cpus } from "node:os";
import { promisify } from "node:util";

const TICKS = 100;

/** A named set of processes, looked up at each snapshot (a restarted component gets a new pid). */
export type ProcessGroups = Record<string, () => number[] | Promise<number[]>>;

interface Snapshot {
  at: number;
  /** CPU seconds per pid, per group. */
  perGroup: Record<string, Map<number, number>>;
  busy: number;
  total: number;
}

async function processCpuSeconds(pid: number): Promise<number> {
  try {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return (Number(fields[11]) + Number(fields[12])) / TICKS;
  } catch {
    return 0; // the process ended between the lookup and the read
  }
}

async function machineCpu(): Promise<{ busy: number; total: number }> {
  const line = (await readFile("/proc/stat", "utf8")).split("\n")[0]!;
  const ticks = line.trim().split(/\s+/).slice(1).map(Number);
  const total = ticks.slice(0, 8).reduce((a, b) => a + b, 0);
  const idle = ticks[3]! + ticks[4]!; // idle + iowait
  return { busy: (total - idle) / TICKS, total: total / TICKS };
}

/** Pids of the processes whose full command line matches `pattern` (pgrep -f), e.g. the shared
 * nats-server as "nats-server.* -p 4222", or every Postgres process as "^postgres". */
export async function pidsMatching(pattern: string): Promise<number[]> {
  try {
    const { stdout } = await promisify(execFile)("pgrep", ["-f", pattern]);
    return stdout.split("\n").filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

export async function cpuSnapshot(groups: ProcessGroups): Promise<Snapshot> {
  const perGroup: Record<string, Map<number, number>> = {};
  for (const [name, pids] of Object.entries(groups)) {
    const m = new Map<number, number>();
    for (const pid of await pids()) m.set(pid, await processCpuSeconds(pid));
    perGroup[name] = m;
  }
  return { at: performance.now(), perGroup, ...(await machineCpu()) };
}

/** CPU seconds of a group between two snapshots: a process there at both counts its difference, one
 * started in between all of its CPU; one that ended in between is missed (short-lived backends). */
function groupCpuBetween(a: Map<number, number> | undefined, b: Map<number, number>): number {
  let s = 0;
  for (const [pid, cpu] of b) s += cpu - (a?.get(pid) ?? 0);
  return s;
}

/** "hub 3.1 s, agents 9.8 s, … (machine busy 36.0 of 40.0 core-s = 90 %)" between two snapshots. */
export function formatCpuBetween(a: Snapshot, b: Snapshot): string {
  const wallS = (b.at - a.at) / 1000;
  const parts = Object.keys(b.perGroup).map((g) => `${g} ${groupCpuBetween(a.perGroup[g], b.perGroup[g]!).toFixed(1)} s`);
  const busy = b.busy - a.busy;
  const capacity = wallS * cpus().length;
  const listed = Object.keys(b.perGroup).reduce((sum, g) => sum + groupCpuBetween(a.perGroup[g], b.perGroup[g]!), 0);
  return `${parts.join(", ")}; other processes ${(busy - listed).toFixed(1)} s (machine busy ${busy.toFixed(1)} of ${capacity.toFixed(1)} core-s = ${((busy / capacity) * 100).toFixed(0)} %)`;
}
