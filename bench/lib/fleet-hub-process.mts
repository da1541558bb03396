// Starts bench/lib/fleet-hub.mts (the real hub alone in its own process, so its RSS is the hub's)
// for a bench: writes its config, forks it, stops it at cleanup (IPC stop, SIGKILL after 15 s),
// and gives a request/answer call over IPC. Shared by bench/fleet.mts and bench/hub-memory.mts.
import { fork, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse as parseYaml } from "yaml";
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
  /**
   * "source": the hub's TypeScript through tsx with the @flotilla/source condition, as the tests
   * run it. "built": as the install runs it — the compiled workspaces (dist/), as the hub image
   * does (deploy/docker; no transpiled sources or source maps in the hub's memory), with the
   * NODE_OPTIONS of deploy/hub/deployment.yaml (its heap limit also sets how far V8 lets the heap
   * grow past the live objects). The bench itself stays on tsx.
   */
  code: HubCode;
}): Promise<FleetHubProcess> {
  const configPath = join(opts.dir, "hub.json");
  const config: FleetHubConfig = { ...opts.config, signingKeyPem: opts.signingKey.privateKey.export({ type: "pkcs8", format: "pem" }).toString() };
  await writeFile(configPath, JSON.stringify(config));
  const here = fileURLToPath(new URL(".", import.meta.url));
  const execArgv = hubExecArgv(opts.code, opts.execArgv ?? process.execArgv, join(here, "../.."));
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

export type HubCode = "source" | "built";

/** The benches' --hub-code flag, checked. */
export function hubCodeOption(value: string | undefined): HubCode {
  if (value === undefined) return "built";
  if (value === "source" || value === "built") return value;
  throw new Error(`--hub-code must be "source" or "built", not ${JSON.stringify(value)}`);
}

/** Entry points of the compiled hub, checked after the build. */
const BUILT_ENTRIES = ["services/hub/dist/index.js", "services/cli/dist/young-generation.js", "libs/wire/dist/index.js"];

function hubExecArgv(code: HubCode, execArgv: string[], root: string): string[] {
  if (code === "source") return execArgv;
  buildHub(root);
  const missing = BUILT_ENTRIES.filter((f) => !existsSync(join(root, f)));
  if (missing.length > 0) throw new Error(`--hub-code built: ${missing.join(", ")} missing after the build`);
  // Without the condition, the workspaces resolve to their package.json "default" export: dist/.
  const deployed = deployedNodeOptions(root);
  console.log(`bench: the hub runs compiled, with deploy/hub/deployment.yaml's NODE_OPTIONS (${deployed.join(" ") || "none"})`);
  const kept: string[] = [...deployed];
  for (let i = 0; i < execArgv.length; i++) {
    const a = execArgv[i]!;
    if (a === "--conditions=@flotilla/source" || a === "-C=@flotilla/source") continue;
    if ((a === "--conditions" || a === "-C") && execArgv[i + 1] === "@flotilla/source") {
      i++;
      continue;
    }
    kept.push(a);
  }
  return kept;
}

/**
 * Builds the `flotilla` command and the workspaces it needs, as deploy/docker/Dockerfile does, so
 * the measured hub is the current code: turbo rebuilds only packages whose sources changed (a
 * few seconds when nothing did, ~40 s from a clean clone).
 */
function buildHub(root: string): void {
  console.log("bench: building the hub (turbo run build --filter=flotilla...) to run it as the hub image does");
  const r = spawnSync("npx", ["turbo", "run", "build", "--filter=flotilla...", "--output-logs=errors-only"], { cwd: root, stdio: "inherit" });
  if (r.status !== 0) throw new Error(`building the hub failed (exit ${r.status ?? r.signal}); run \`npm run build\` to see why`);
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
