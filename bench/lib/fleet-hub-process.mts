// Starts bench/lib/fleet-hub.mts (the real hub alone in its own process, so its RSS is the hub's)
// for a bench: writes its config, forks it, stops it at cleanup (IPC stop, SIGKILL after 15 s),
// and gives a request/answer call over IPC. Shared by bench/fleet.mts and bench/hub-memory.mts.
import { fork, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
import type { SigningKey } from "@flotilla/wire";
import type { Cleanup } from "./cleanup.mts";
import { execArgvFor, REPO_ROOT, type Code } from "./compiled-code.mts";
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
  /**
   * "source": the hub's TypeScript through tsx with the @flotilla/source condition, as the tests
   * run it. "built": as the install runs it — the compiled workspaces (dist/), as the hub image
   * does (deploy/docker; no transpiled sources or source maps in the hub's memory), with the
   * NODE_OPTIONS of deploy/hub/deployment.yaml (its heap limit also sets how far V8 lets the heap
   * grow past the live objects). The bench itself stays on tsx.
   */
  code: Code;
}): Promise<FleetHubProcess> {
  const configPath = join(opts.dir, "hub.json");
  const config: FleetHubConfig = { ...opts.config, signingKeyPem: opts.signingKey.privateKey.export({ type: "pkcs8", format: "pem" }).toString() };
  await writeFile(configPath, JSON.stringify(config));
  const here = fileURLToPath(new URL(".", import.meta.url));
  const execArgv = hubExecArgv(opts.code, opts.execArgv ?? process.execArgv);
  const child = fork(join(here, "fleet-hub.mts"), [configPath], { stdio: "inherit", execArgv });
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

/**
 * The hub's node flags: for "built" (as the install runs it), the NODE_OPTIONS of
 * deploy/hub/deployment.yaml come first — its heap limit also sets how far V8 lets the heap grow
 * past the live objects — then the bench's own flags (a later flag wins).
 */
function hubExecArgv(code: Code, execArgv: readonly string[]): string[] {
  const argv = execArgvFor(code, execArgv);
  if (code === "source") return argv;
  const deployed = deployedNodeOptions(REPO_ROOT);
  console.log(`bench: the hub runs compiled, with deploy/hub/deployment.yaml's NODE_OPTIONS (${deployed.join(" ") || "none"})`);
  return [...deployed, ...argv];
}

/** The hub container's NODE_OPTIONS in deploy/hub/deployment.yaml, as node flags. */
export function deployedNodeOptions(root: string): string[] {
  const file = join(root, "deploy/hub/deployment.yaml");
  const doc = parseYaml(readFileSync(file, "utf8")) as { spec?: { template?: { spec?: { containers?: { name?: string; env?: { name?: string; value?: string }[] }[] } } } };
  const hub = doc.spec?.template?.spec?.containers?.find((c) => c.name === "hub");
  if (!hub) throw new Error(`${file}: no container named "hub" in spec.template.spec.containers`);
  const value = hub.env?.find((e) => e.name === "NODE_OPTIONS")?.value ?? "";
  return value.split(/\s+/).filter(Boolean);
}
