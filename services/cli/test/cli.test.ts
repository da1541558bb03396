// The `flotilla` command as a user meets it: help, and clear errors for missing or bad flags.
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const MAIN = join(ROOT, "services/cli/src/main.ts");
const TSX = import.meta.resolve("tsx");

function flotilla(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["--conditions=@flotilla/source", "--import", TSX, MAIN, ...args], { cwd: ROOT, env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env } }, (err, stdout, stderr) => {
      const status = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 1) : 0;
      resolve({ status, stdout, stderr });
    });
  });
}

describe("flotilla", () => {
  it("lists its commands", async () => {
    const r = await flotilla(["--help"]);
    expect(r.status).toBe(0);
    for (const c of ["hub", "agent", "render", "nats-config", "demo"]) expect(r.stdout).toContain(c);
  });

  it("prints each command's flags with their environment variables", async () => {
    const hub = await flotilla(["hub", "--help"]);
    expect(hub.status).toBe(0);
    expect(hub.stdout).toMatch(/--repo VALUE.*env FLOTILLA_REPO/);
    expect(hub.stdout).toMatch(/--database-url VALUE.*env DATABASE_URL/);
    const agent = await flotilla(["agent", "--help"]);
    expect(agent.status).toBe(0);
    expect(agent.stdout).toMatch(/--cluster VALUE.*env FLOTILLA_CLUSTER/);
    expect(agent.stdout).toMatch(/--kubeconfig VALUE.*env KUBECONFIG/);
  });

  it("names a missing required flag and its environment variable", async () => {
    const r = await flotilla(["hub"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("--repo (or FLOTILLA_REPO) is required");
  });

  it("names an unknown flag and says where the flags are", async () => {
    const r = await flotilla(["agent", "--clustre", "x"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("--clustre");
    expect(r.stderr).toContain('flotilla agent --help');
  });

  it("refuses an agent whose hub key is not a PEM public key, naming the file", async () => {
    const dir = await mkdtemp(join(tmpdir(), "flotilla-cli-"));
    try {
      const key = join(dir, "hub.pub");
      await writeFile(key, "not a key");
      const r = await flotilla(["agent", "--cluster", "dev-1", "--hub-public-key", key]);
      expect(r.status).toBe(2);
      expect(r.stderr).toContain(`--hub-public-key ${key}: not a readable PEM public key`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("reads flags from the environment", async () => {
    const r = await flotilla(["agent"], { FLOTILLA_CLUSTER: "dev-1" });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("--hub-public-key (or FLOTILLA_HUB_PUBLIC_KEY) is required");
  });

  it("rejects an unknown command", async () => {
    const r = await flotilla(["hbu"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('unknown command "hbu"');
  });
});
