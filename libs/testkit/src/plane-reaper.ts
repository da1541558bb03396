// Making sure no control-plane process outlives the process that started it.
//
// Three layers, because each covers a way the others fail:
// 1. exit / signal / fatal-exception hooks kill every live plane synchronously;
// 2. a watchdog per plane — a tiny `sh` whose stdin is a pipe from us: when we die (even by
//    SIGKILL) the pipe closes, `read` returns and it kills the plane's process groups;
// 3. a record per plane in a well-known directory (owner pid, temp dir, process groups): the next
//    startControlPlane reaps planes whose owner is gone, in case the watchdog died with it.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { isAlive, signalGroup } from "./component-process.js";

/** Where plane records live: FLOTILLA_PLANES_DIR, else <tmpdir>/flotilla-planes (shared by every user of the machine). */
export function planesDir(): string {
  return process.env.FLOTILLA_PLANES_DIR ?? join(tmpdir(), "flotilla-planes");
}

export interface PlaneRecord {
  id: string;
  owner: number;
  /** The plane's temp dir, removed with it. */
  dir: string;
  /** Process-group ids (= pids) of the plane's components. */
  pgids: number[];
}

interface LivePlane {
  record: PlaneRecord;
  file: string;
  watchdog: ChildProcess | undefined;
  watchdogExited: Promise<void>;
}

const live = new Map<string, LivePlane>();

// Record lines: "owner <pid>", "dir <path>", "pid <pgid>" — simple enough for the watchdog's sh.
function formatRecord(r: PlaneRecord): string {
  return [`owner ${r.owner}`, `dir ${r.dir}`, ...r.pgids.map((p) => `pid ${p}`)].join("\n") + "\n";
}

function parseRecord(id: string, text: string): PlaneRecord {
  const r: PlaneRecord = { id, owner: 0, dir: "", pgids: [] };
  for (const line of text.split("\n")) {
    const [key, ...rest] = line.split(" ");
    const value = rest.join(" ");
    if (key === "owner") r.owner = Number(value);
    else if (key === "dir") r.dir = value;
    else if (key === "pid") r.pgids.push(Number(value));
  }
  return r;
}

// dash: `kill -KILL -PGID` (it takes no `--`).
const WATCHDOG = `while read -r _; do :; done
[ -f "$1" ] || exit 0
while read -r k v; do [ "$k" = pid ] && kill -KILL "-$v" 2>/dev/null; done < "$1"
rm -rf "$2" "$1"
`;

/** Registers a plane that is starting: writes its record, starts its watchdog, installs the hooks. */
export function registerPlane(id: string, dir: string): PlaneRecord {
  installHooks();
  mkdirSync(planesDir(), { recursive: true });
  const record: PlaneRecord = { id, owner: process.pid, dir, pgids: [] };
  const file = join(planesDir(), `${id}.plane`);
  writeFileSync(file, formatRecord(record));
  const watchdog = spawn("/bin/sh", ["-c", WATCHDOG, "flotilla-plane-watchdog", file, dir], {
    detached: true,
    stdio: ["pipe", "ignore", "ignore"],
  });
  const watchdogExited = new Promise<void>((resolve) => {
    watchdog.once("error", () => resolve());
    watchdog.once("exit", () => resolve());
  });
  watchdog.unref();
  // The pipe must not keep the event loop alive either; it only has to exist.
  (watchdog.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  live.set(id, { record, file, watchdog, watchdogExited });
  return record;
}

export function watchdogPid(id: string): number | undefined {
  return live.get(id)?.watchdog?.pid;
}

/** Adds a started component's process group to the plane's record. */
export function recordComponent(id: string, pgid: number): void {
  const plane = live.get(id);
  if (!plane) return;
  plane.record.pgids.push(pgid);
  writeFileSync(plane.file, formatRecord(plane.record));
}

/** Ends a plane's watchdog (SIGKILL: it must not run its cleanup) and waits until it is reaped. */
export async function stopWatchdog(id: string): Promise<void> {
  const plane = live.get(id);
  if (!plane?.watchdog?.pid) return;
  signalGroup(plane.watchdog.pid, "SIGKILL");
  await plane.watchdogExited;
}

/** Forgets a plane stop() has taken down: its record goes, the exit hooks no longer cover it. */
export function forgetPlane(id: string): void {
  const plane = live.get(id);
  if (!plane) return;
  live.delete(id);
  rmSync(plane.file, { force: true });
}

/** Kills every plane this process started, synchronously (for exit paths). */
export function killAllPlanesSync(): void {
  for (const [id, plane] of live) {
    for (const pgid of plane.record.pgids) signalGroup(pgid, "SIGKILL");
    rmSync(plane.record.dir, { recursive: true, force: true });
    rmSync(plane.file, { force: true });
    if (plane.watchdog?.pid) signalGroup(plane.watchdog.pid, "SIGKILL");
    live.delete(id);
  }
}

/** Reaps planes whose owning process is gone (it was SIGKILLed, or its watchdog was too). */
export function reapOrphanedPlanes(dir = planesDir()): string[] {
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith(".plane"));
  } catch {
    return [];
  }
  const reaped: string[] = [];
  for (const f of files) {
    const id = f.slice(0, -".plane".length);
    const file = join(dir, f);
    let record: PlaneRecord;
    try {
      record = parseRecord(id, readFileSync(file, "utf8"));
    } catch {
      continue;
    }
    if (record.owner > 0 && isAlive(record.owner)) continue;
    for (const pgid of record.pgids) if (belongsTo(pgid, record.dir)) signalGroup(pgid, "SIGKILL");
    if (record.dir) rmSync(record.dir, { recursive: true, force: true });
    try {
      unlinkSync(file);
    } catch {
      // another process reaped it first
    }
    reaped.push(id);
  }
  return reaped;
}

// A pid may have been reused since the record was written: only kill a process whose command
// line names the plane's dir (every component gets its files from there).
function belongsTo(pid: number, dir: string): boolean {
  try {
    return dir !== "" && readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(dir);
  } catch {
    return false;
  }
}

let hooksInstalled = false;

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on("exit", killAllPlanesSync);
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    const onSignal = () => {
      killAllPlanesSync();
      // Our listener replaced Node's default (exit); keep that behaviour unless someone else
      // handles the signal.
      if (process.listenerCount(signal) === 1) {
        process.removeListener(signal, onSignal);
        process.kill(process.pid, signal);
      }
    };
    process.on(signal, onSignal);
  }
  // Only when the exception will crash the process: a runner that reports uncaught errors and
  // goes on must keep its planes.
  process.on("uncaughtExceptionMonitor", () => {
    if (process.listenerCount("uncaughtException") === 0) killAllPlanesSync();
  });
}
