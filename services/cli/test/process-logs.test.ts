// The long-running processes the CLI starts — `flotilla hub` and `flotilla agent` — log pino JSON
// lines on stderr: each with level, time, msg and component (the agent's also its cluster), at
// the level of --log-level / FLOTILLA_LOG_LEVEL (levels themselves: tests/e2e process-logger). Real child processes on the real NATS; the hub
// on embedded PGlite; the agent against an API server address that refuses (its start and its
// failures are what it logs).
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createWorkRepo, readFilesFrom } from "@flotilla/envrepo/testing";
import { createTestNats, waitFor, type TestNats } from "@flotilla/testkit";
import { generateSigningKey, publicKeyPem } from "@flotilla/wire";
import { flotilla } from "./fleet-hub.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const MAIN = join(ROOT, "services/cli/src/main.ts");
const TSX = import.meta.resolve("tsx");

interface Running {
  child: ChildProcess;
  stderr: () => string;
  stdout: () => string;
}

function start(args: string[], env: NodeJS.ProcessEnv = {}): Running {
  const child = spawn(process.execPath, ["--conditions=@flotilla/source", "--import", TSX, MAIN, ...args], { cwd: ROOT, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env } });
  let err = "";
  let out = "";
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  return { child, stderr: () => err, stdout: () => out };
}

async function stop(r: Running): Promise<number | null> {
  if (r.child.exitCode !== null || r.child.signalCode !== null) return r.child.exitCode;
  const exited = new Promise<number | null>((resolve) => r.child.once("exit", (code) => resolve(code)));
  r.child.kill("SIGTERM");
  return exited;
}

/** The JSON lines of a stream; the human banners (not starting with "{") are left out. */
const jsonLines = (text: string) =>
  text
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

describe("process logs", () => {
  let tn: TestNats;
  let dir: string;
  const running: Running[] = [];
  beforeEach(async () => {
    tn = createTestNats("proclogs");
    dir = await mkdtemp(join(tmpdir(), "flotilla-proclogs-"));
  });
  afterEach(async () => {
    for (const r of running.splice(0)) await stop(r);
    await tn.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it("flotilla hub writes JSON lines with level, time, msg and component on stderr; stdout stays empty", async () => {
    const repo = join(dir, "env-repo");
    await createWorkRepo(repo, await readFilesFrom(join(ROOT, "examples/env-repo")));
    const hub = start(["hub", "--repo", repo, "--insecure-no-auth", "--signing-key", join(dir, "hub.key"), "--generate-signing-key", "--listen", `127.0.0.1:${await freePort()}`, "--nats-url", tn.url, "--nats-prefix", tn.prefix], { FLOTILLA_LOG_LEVEL: "debug" });
    running.push(hub);
    const serving = await waitFor(() => jsonLines(hub.stderr()).find((l) => l.msg === "hub serving"), { what: `"hub serving" in the hub's log; stderr so far: ${hub.stderr().slice(-2000)}`, timeoutMs: 90_000 });
    expect(serving).toMatchObject({ level: "info", component: "hub" });
    const lines = jsonLines(hub.stderr());
    expect(lines.find((l) => l.msg === "hub resolved the env repo")).toMatchObject({ level: "info", component: "hub" });
    // The insecure start is logged as a warning too, not only printed as a banner.
    expect(lines.some((l) => l.level === "warn" && l.insecureNoAuth === true)).toBe(true);
    for (const l of lines) {
      expect(l).toMatchObject({ component: "hub" });
      expect(["trace", "debug", "info", "warn", "error", "fatal"]).toContain(l.level);
      expect(typeof l.msg).toBe("string");
      expect(new Date(String(l.time)).toISOString()).toBe(l.time);
    }
    expect(hub.stdout()).toBe("");
    expect(await stop(hub)).toBe(0);
  });

  it("flotilla agent writes JSON lines with level, time, msg, component and cluster", async () => {
    const keyFile = join(dir, "hub.pub");
    await writeFile(keyFile, publicKeyPem(generateSigningKey().publicKey));
    const kubeconfig = join(dir, "kubeconfig");
    // An API server that refuses connections: the agent starts and logs what fails.
    await writeFile(kubeconfig, JSON.stringify({
      apiVersion: "v1", kind: "Config", "current-context": "c",
      clusters: [{ name: "c", cluster: { server: `https://127.0.0.1:${await freePort()}`, "insecure-skip-tls-verify": true } }],
      users: [{ name: "u", user: { token: "t" } }],
      contexts: [{ name: "c", context: { cluster: "c", user: "u" } }],
    }));
    const args = (level: string, cluster: string) => ["agent", "--cluster", cluster, "--hub-public-key", keyFile, "--kubeconfig", kubeconfig, "--state-dir", join(dir, cluster), "--nats-url", tn.url, "--nats-prefix", tn.prefix, "--log-level", level];
    const agent = start(args("info", "edge-1"));
    running.push(agent);
    const started = await waitFor(() => jsonLines(agent.stderr()).find((l) => l.msg === "agent started"), { what: `"agent started" in the agent's log; stderr so far: ${agent.stderr().slice(-2000)}`, timeoutMs: 90_000 });
    expect(started).toMatchObject({ level: "info", component: "agent", cluster: "edge-1" });
    for (const l of jsonLines(agent.stderr())) {
      expect(l).toMatchObject({ component: "agent", cluster: "edge-1" });
      expect(typeof l.level).toBe("string");
      expect(typeof l.msg).toBe("string");
      expect(new Date(String(l.time)).toISOString()).toBe(l.time);
    }
    expect(await stop(agent)).toBe(0);
  });

  it("an unknown --log-level is a usage error naming the flag and the variable", async () => {
    const r = await flotilla(["agent", "--cluster", "x", "--hub-public-key", "/nonexistent", "--log-level", "loud"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("--log-level loud (or FLOTILLA_LOG_LEVEL): expected one of fatal, error, warn, info, debug, trace, silent");
  });
});
