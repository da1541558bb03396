// Private nats-server processes for tests that must stop, restart or configure a server of their
// own (outages, a store lost on restart, the generated auth configuration) — the shared server at
// 127.0.0.1:4222 cannot be touched. Each runs on its own port; the caller stops it.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePorts } from "./free-ports.js";

/** A free TCP port on 127.0.0.1 (another process may take it before the caller binds it). */
export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port!;
}

/** True when something accepts TCP connections on 127.0.0.1:`port`. */
export function portAccepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = new Socket();
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
    s.connect(port, "127.0.0.1");
  });
}

/** A running nats-server child process. */
export interface NatsServerProcess {
  url: string;
  port: number;
  pid: number;
  /** SIGTERM, resolved once the process has exited (a no-op when it already has). */
  stop(): Promise<void>;
  /** SIGKILL (a crash: no flush, no goodbye to the cluster), resolved once it has exited. */
  kill(): Promise<void>;
}

/**
 * Spawns `nats-server <args>` and waits until it listens on `port` (which `args` must make it
 * use). Fails at once, with the end of its stderr, when the server exits instead. `env` is added
 * to the test's environment (a config file may read `$VARIABLE`s from it).
 */
export async function spawnNatsServer(args: readonly string[], port: number, timeoutMs = 20_000, env: Record<string, string> = {}): Promise<NatsServerProcess> {
  const child: ChildProcess = spawn("nats-server", [...args], { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, ...env } });
  let stderr = "";
  child.stderr?.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const deadline = Date.now() + timeoutMs;
  while (!(await portAccepts(port))) {
    if (child.exitCode !== null) throw new Error(`nats-server ${args.join(" ")} exited with ${child.exitCode}: ${stderr}`);
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`timed out after ${timeoutMs} ms waiting for nats-server on port ${port}`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  const end = async (signal: NodeJS.Signals) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once("exit", () => r()));
    child.kill(signal);
    await exited;
  };
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    pid: child.pid!,
    stop: () => end("SIGTERM"),
    kill: () => end("SIGKILL"),
  };
}

/** nats-server started with a configuration file that makes it listen on `port`. */
export function startConfiguredNats(configPath: string, port: number): Promise<NatsServerProcess> {
  return spawnNatsServer(["-c", configPath], port);
}

/** A private nats-server with JetStream on its own port and store, which a test may stop and start. */
export interface PrivateNats {
  url: string;
  port: number;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Deletes the JetStream store of a stopped server: it comes back empty (a NATS without persistence). */
  wipe(): Promise<void>;
  /** Stops the server and removes its store. */
  dispose(): Promise<void>;
}

export async function privateNats(port?: number): Promise<PrivateNats> {
  const p = port ?? (await freePort());
  const dir = await mkdtemp(join(tmpdir(), "flotilla-nats-"));
  // The starting or running server; set before the wait so a second start() does not spawn again.
  let server: Promise<NatsServerProcess> | undefined;
  const stop = async (): Promise<void> => {
    const running = server;
    server = undefined;
    await (await running?.catch(() => undefined))?.stop();
  };
  return {
    url: `nats://127.0.0.1:${p}`,
    port: p,
    async start() {
      if (server) return;
      server = spawnNatsServer(["-js", "-a", "127.0.0.1", "-p", String(p), "-sd", dir], p);
      await server;
    },
    stop,
    async wipe() {
      if (server) throw new Error("stop the server before wiping its store");
      await rm(dir, { recursive: true, force: true });
    },
    async dispose() {
      await stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}
