// One control-plane component as a child process: its own process group (so a signal reaches
// anything it forks), output appended to a log file, and a promise that settles when it exits.
import { spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";

export interface ComponentExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: Error;
}

export interface Component {
  name: string;
  pid: number;
  logPath: string;
  exited: Promise<ComponentExit>;
  /** Set once the process has exited. */
  exit: ComponentExit | undefined;
}

export interface ComponentSpec {
  name: string;
  command: string;
  args: string[];
  logPath: string;
  cwd: string;
}

export function startComponent(spec: ComponentSpec): Component {
  const log = openSync(spec.logPath, "a");
  try {
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      // detached = setsid: the child leads a new process group whose id is its pid.
      detached: true,
      stdio: ["ignore", log, log],
      env: { ...process.env, GOTRACEBACK: "all" },
    });
    // A forgotten plane must not keep the test runner alive; the exit hooks kill it.
    child.unref();
    const component: Component = {
      name: spec.name,
      pid: child.pid ?? -1,
      logPath: spec.logPath,
      exit: undefined,
      exited: new Promise((resolve) => {
        child.once("error", (error) => {
          component.exit = { code: null, signal: null, error };
          resolve(component.exit);
        });
        child.once("exit", (code, signal) => {
          component.exit = { code, signal };
          resolve(component.exit);
        });
      }),
    };
    return component;
  } finally {
    closeSync(log);
  }
}

/** Sends a signal to a process group; false when no such group exists. */
export function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  if (pgid <= 0) return false;
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/** The process exists and is not a zombie (dead, waiting for its parent to reap it). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
  try {
    return !/^State:\s+Z/m.test(readFileSync(`/proc/${pid}/status`, "utf8"));
  } catch {
    return true; // no procfs: trust kill(0)
  }
}

/** The last `lines` lines of a log file ("" when it cannot be read). */
export async function logTail(path: string, lines = 40): Promise<string> {
  try {
    const text = await readFile(path, "utf8");
    return text.trimEnd().split("\n").slice(-lines).join("\n");
  } catch {
    return "";
  }
}

export function describeExit(exit: ComponentExit): string {
  if (exit.error) return `could not start: ${exit.error.message}`;
  return exit.signal ? `killed by ${exit.signal}` : `exited with code ${exit.code}`;
}
