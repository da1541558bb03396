// The `flotilla` command as a user meets it: help, and clear errors for missing or bad flags.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { generateSigningKey, publicKeyPem } from "@flotilla/wire";

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
    for (const c of ["hub", "agent", "render", "token", "nats-config", "demo"]) expect(r.stdout).toContain(c);
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

  it("refuses to serve an open API: the hub needs tokens or an explicit --insecure-no-auth", async () => {
    const r = await flotilla(["hub", "--repo", "/nonexistent"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("the fleet API requires authentication and no tokens were given");
    expect(r.stderr).toContain("flotilla token mint --file api-tokens.json --subject you --role admin");
    expect(r.stderr).toContain("--insecure-no-auth");
    const both = await flotilla(["hub", "--repo", "/nonexistent", "--insecure-no-auth"], { FLOTILLA_API_TOKENS: "{}" });
    expect(both.status).toBe(2);
    expect(both.stderr).toContain("contradict each other");
    const bad = await flotilla(["hub", "--repo", "/nonexistent", "--api-tokens", "/nonexistent/tokens.json"]);
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain("API tokens file /nonexistent/tokens.json cannot be read (ENOENT)");
  });

  it("refuses a size limit that is not a positive number of bytes, naming the flag and its variable", async () => {
    const help = await flotilla(["hub", "--help"]);
    expect(help.stdout).toMatch(/--max-report-bytes VALUE.*env FLOTILLA_MAX_REPORT_BYTES; default 1MiB/);
    expect(help.stdout).toMatch(/--max-bundle-bytes VALUE.*env FLOTILLA_MAX_BUNDLE_BYTES; default 32MiB/);
    const agentHelp = await flotilla(["agent", "--help"]);
    expect(agentHelp.stdout).toMatch(/--max-bundle-bytes VALUE.*env FLOTILLA_MAX_BUNDLE_BYTES; default 32MiB/);
    for (const bad of ["0", "lots"]) {
      const r = await flotilla(["hub", "--repo", "/nonexistent", "--insecure-no-auth"], { FLOTILLA_MAX_REPORT_BYTES: bad });
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toContain(`--max-report-bytes (or FLOTILLA_MAX_REPORT_BYTES) is "${bad}": give a positive number of bytes`);
    }
  });

  it("refuses a JetStream replica count outside 1–5, naming the flag and its variable", async () => {
    const help = await flotilla(["hub", "--help"]);
    expect(help.stdout).toMatch(/--nats-replicas VALUE.*env FLOTILLA_NATS_REPLICAS; default 1/);
    expect(help.stdout).toMatch(/--nats-bundle-replicas VALUE.*env FLOTILLA_NATS_BUNDLE_REPLICAS/);
    for (const [flag, env, bad] of [["nats-replicas", "FLOTILLA_NATS_REPLICAS", "0"], ["nats-bundle-replicas", "FLOTILLA_NATS_BUNDLE_REPLICAS", "2.5"], ["nats-replicas", "FLOTILLA_NATS_REPLICAS", "three"]] as const) {
      const r = await flotilla(["hub", "--repo", "/nonexistent", "--insecure-no-auth"], { [env]: bad });
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr).toContain(`--${flag} ${bad} (or ${env}): a JetStream replica count is a whole number from 1 to 5`);
    }
  });

  it("mints a token into the tokens file (digest only, mode 0600), lists and revokes it", async () => {
    const dir = await mkdtemp(join(tmpdir(), "flotilla-cli-"));
    try {
      const file = join(dir, "api-tokens.json");
      const minted = await flotilla(["token", "mint", "--file", file, "--subject", "carol", "--role", "promoter", "--environment", "stage", "--environment", "prod", "--group", "sre", "--expires-in", "90d"]);
      expect(minted.status, minted.stderr).toBe(0);
      const token = minted.stdout.trim();
      expect(token).toMatch(/^flt_[A-Za-z0-9_-]{43}$/);
      const text = await readFile(file, "utf8");
      expect(text).not.toContain(token);
      const [entry] = JSON.parse(text).tokens;
      expect(entry).toMatchObject({ subject: "carol", roles: ["promoter"], environments: ["stage", "prod"], groups: ["sre"], sha256: createHash("sha256").update(token).digest("hex") });
      expect(Date.parse(entry.expiresAt) - Date.now()).toBeGreaterThan(89 * 86_400_000);
      expect((await stat(file)).mode & 0o777).toBe(0o600);
      await flotilla(["token", "mint", "--file", file, "--subject", "vic", "--role", "viewer"]);
      const listed = await flotilla(["token", "list", "--file", file]);
      expect(listed.stdout).toMatch(/^SUBJECT\s+ROLES\s+ENVIRONMENTS\s+GROUPS\s+EXPIRES\s+DIGEST$/m);
      expect(listed.stdout).toMatch(/^carol\s+promoter\s+stage,prod\s+sre\s+\d{4}-/m);
      expect(listed.stdout).toMatch(/^vic\s+viewer\s+-\s+-\s+never/m);
      expect(listed.stdout).not.toContain(token);
      expect((await flotilla(["token", "revoke", "--file", file, "--subject", "carol"])).status).toBe(0);
      expect(JSON.parse(await readFile(file, "utf8")).tokens.map((t: { subject: string }) => t.subject)).toEqual(["vic"]);
      expect((await flotilla(["token", "revoke", "--file", file, "--subject", "carol"])).status).toBe(1);
      const badRole = await flotilla(["token", "mint", "--file", file, "--subject", "x", "--role", "root"]);
      expect(badRole.status).toBe(1);
      expect(badRole.stderr).toContain("roles must be a list of viewer, operator, promoter, admin");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
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

  it("has NATS TLS flags on hub and agent, and refuses half a client pair or an unreadable CA before connecting", async () => {
    for (const cmd of ["hub", "agent"]) {
      const help = await flotilla([cmd, "--help"]);
      expect(help.stdout).toMatch(/--nats-ca VALUE.*env NATS_CA/);
      expect(help.stdout).toMatch(/--nats-cert VALUE.*env NATS_CERT/);
      expect(help.stdout).toMatch(/--nats-key VALUE.*env NATS_KEY/);
    }
    const dir = await mkdtemp(join(tmpdir(), "flotilla-cli-tls-"));
    try {
      const key = join(dir, "hub.pub");
      await writeFile(key, publicKeyPem(generateSigningKey().publicKey));
      const agent = await flotilla(["agent", "--cluster", "dev-1", "--hub-public-key", key, "--state-dir", dir, "--nats-url", "tls://127.0.0.1:1"], { NATS_CERT: join(dir, "agent.crt") });
      expect(agent.status).toBe(1);
      expect(agent.stderr).toContain(`FLOTILLA_ERR_CONFIG_INVALID: --nats-cert (NATS_CERT) ${join(dir, "agent.crt")} given without --nats-key (NATS_KEY)`);
      const hub = await flotilla(["hub", "--repo", dir, "--insecure-no-auth", "--signing-key", join(dir, "hub.key"), "--generate-signing-key", "--nats-ca", join(dir, "missing-ca.crt")]);
      expect(hub.status).toBe(1);
      expect(hub.stderr).toContain(`FLOTILLA_ERR_CONFIG_INVALID: --nats-ca (NATS_CA) ${join(dir, "missing-ca.crt")}: cannot read the file (ENOENT`);
      const files = await flotilla(["nats-config", "--out", join(dir, "nats"), "--cluster", "dev-1", "--nats-ca", "/etc/flotilla/nats-ca/ca.crt"]);
      expect(files.status, files.stderr).toBe(0);
      expect(await readFile(join(dir, "nats", "agent-dev-1.env"), "utf8")).toContain("NATS_CA=/etc/flotilla/nats-ca/ca.crt\n");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("reads flags from the environment", async () => {
    const r = await flotilla(["agent"], { FLOTILLA_CLUSTER: "dev-1" });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("--hub-public-key (or FLOTILLA_HUB_PUBLIC_KEY) is required");
  });

  it("nats-config --leaf-url writes each cluster's leaf node env file; a bad address is a usage error", async () => {
    const dir = await mkdtemp(join(tmpdir(), "flotilla-cli-leaf-"));
    try {
      const r = await flotilla(["nats-config", "--out", dir, "--cluster", "edge-2", "--js-domain", "hub", "--leaf-url", "tls://leaf.nats.example.com:7422"]);
      expect(r.status, r.stderr).toBe(0);
      expect(r.stdout).toContain(`leaf node: ${join(dir, "leaf-edge-2.env")}`);
      const creds = JSON.parse(await readFile(join(dir, "credentials.json"), "utf8")) as { agents: Record<string, { password: string }> };
      expect(await readFile(join(dir, "leaf-edge-2.env"), "utf8")).toBe(`FLOTILLA_LEAF_URL=tls://agent-edge-2:${creds.agents["edge-2"]!.password}@leaf.nats.example.com:7422\n`);
      const bad = await flotilla(["nats-config", "--out", join(dir, "bad"), "--cluster", "edge-2", "--leaf-url", "leaf.nats.example.com:7422"]);
      expect(bad.status).toBe(2);
      expect(bad.stderr).toContain("--leaf-url");
      expect(bad.stderr).toContain("scheme");
      await expect(stat(join(dir, "bad"))).rejects.toThrow(/ENOENT/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("rejects an unknown command", async () => {
    const r = await flotilla(["hbu"]);
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('unknown command "hbu"');
  });
});
