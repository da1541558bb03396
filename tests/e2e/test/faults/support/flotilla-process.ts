// A real `flotilla` command in a child process (services/cli/src/main.ts through tsx, as a user
// runs it), for faults that need a process to die by SIGKILL: no stop(), no finally, no flush.
// Its output (pino JSON lines on stderr, the CLI's stdout) is kept for waiting on a log line and
// for the failure message.
import { spawn, type ChildProcess } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { waitFor } from "@flotilla/testkit";

const ROOT = fileURLToPath(new URL("../../../../../", import.meta.url));
const MAIN = join(ROOT, "services/cli/src/main.ts");
const TSX = import.meta.resolve("tsx");

export interface FlotillaProcess {
  child: ChildProcess;
  /** Resolves with the signal or exit code once the process has exited. */
  exited: Promise<NodeJS.Signals | number | null>;
  output(): string;
  /** Waits for a log line whose `msg` is `msg`; returns it parsed. Fails if the process exits first. */
  logLine(msg: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** SIGKILL, then waits for the exit. */
  kill(): Promise<void>;
  /** SIGTERM if still running, then waits for the exit (teardown). */
  stop(): Promise<void>;
}

export function startFlotilla(args: string[], env: Record<string, string> = {}): FlotillaProcess {
  const child = spawn(process.execPath, ["--conditions=@flotilla/source", "--import", TSX, MAIN, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.once("exit", (code, signal) => resolve(signal ?? code)));
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    child,
    exited,
    output: () => out,
    logLine: (msg, timeoutMs = 90_000) =>
      waitFor(
        () => {
          for (const l of out.split("\n")) {
            if (!l.startsWith("{") || !l.includes(`"msg":${JSON.stringify(msg)}`)) continue;
            return JSON.parse(l) as Record<string, unknown>;
          }
          if (!running()) throw new Error(`flotilla ${args[0]} exited before logging "${msg}": ${out.slice(-4000)}`);
          return undefined;
        },
        { what: `flotilla ${args[0]} logging "${msg}"`, timeoutMs, intervalMs: 100 },
      ),
    async kill() {
      if (running()) child.kill("SIGKILL");
      await exited;
    },
    async stop() {
      if (running()) child.kill("SIGTERM");
      const timer = setTimeout(() => running() && child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
