// Starts bench/lib/fleet-hub.mts (the real hub alone in its own process, so its RSS is the hub's)
// for a bench: writes its config, forks it, stops it at cleanup (IPC stop, SIGKILL after 15 s),
// and gives a request/answer call over IPC. Shared by bench/fleet.mts and bench/hub-memory.mts.
import { fork, type ChildProcess } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { SigningKey } from "@flotilla/wire";
import type { Cleanup } from "./cleanup.mts";
import type { FleetHubConfig, FromHub, ToHub } from "./fleet-hub.mts";

export interface FleetHubProcess {
  child: ChildProcess;
  /** Sends `message` (none: just waits) and resolves with the hub's next message; rejects if it exits. */
  ask(message?: ToHub): Promise<FromHub>;
}

export async function startFleetHubProcess(opts: {
  cleanup: Cleanup;
  dir: string;
  config: Omit<FleetHubConfig, "signingKeyPem">;
  signingKey: SigningKey;
  execArgv?: string[];
}): Promise<FleetHubProcess> {
  const configPath = join(opts.dir, "hub.json");
  const config: FleetHubConfig = { ...opts.config, signingKeyPem: opts.signingKey.privateKey.export({ type: "pkcs8", format: "pem" }).toString() };
  await writeFile(configPath, JSON.stringify(config));
  const here = fileURLToPath(new URL(".", import.meta.url));
  const child = fork(join(here, "fleet-hub.mts"), [configPath], { stdio: "inherit", ...(opts.execArgv ? { execArgv: opts.execArgv } : {}) });
  opts.cleanup.add("hub process", async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.send({ stop: true } satisfies ToHub);
    await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
    if (child.exitCode === null) child.kill("SIGKILL");
  });
  const ask = (message?: ToHub) =>
    new Promise<FromHub>((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`hub process exited (${code})`));
      child.once("message", (m: FromHub) => {
        child.off("exit", onExit);
        resolve(m);
      });
      child.once("exit", onExit);
      if (message) child.send(message);
    });
  return { child, ask };
}
