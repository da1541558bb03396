// deploy/nats/base's configuration, run: three nats-server 2.9 processes from the rendered
// ConfigMap (only the addresses moved to loopback ports and the volumes to temporary directories),
// each including the users file `flotilla nats-config` writes, form a JetStream cluster with the
// domain "hub" — the StatefulSet's readiness probe (GET /healthz) passes on all three — and the
// hub and an agent, each logged in as its generated user on a different member, deliver a signed
// pointer and its bundle; another cluster's pointer stays refused.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUNDLE_API_VERSION, type Bundle, type KubeObject } from "@flotilla/model";
import { fsFileView, renderKustomization } from "@flotilla/overlays";
import { BundlePublisher } from "@flotilla/hub";
import { NatsDesiredStateSource, connectAgentNats } from "@flotilla/cluster-agent";
import { freePort, waitFor } from "@flotilla/testkit";
import { generateSigningKey, wireNames, type SigningKey } from "@flotilla/wire";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const MAIN = join(ROOT, "services/cli/src/main.ts");
const TSX = import.meta.resolve("tsx");
const MEMBERS = 3;

const envFile = (text: string): Record<string, string> =>
  Object.fromEntries(
    text
      .split("\n")
      .filter((l) => l.trim() && !l.trim().startsWith("#"))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );

/** `text` with each `from` replaced by its `to`; each must occur (the manifest changed otherwise). */
function moved(text: string, replacements: [string, string][]): string {
  return replacements.reduce((t, [from, to]) => {
    expect(t, `nats.conf no longer contains ${from}`).toContain(from);
    return t.replaceAll(from, to);
  }, text);
}

describe("deploy/nats/base as a running 3-node JetStream cluster", () => {
  let dir: string;
  const servers: ChildProcess[] = [];
  const logs: string[] = [];
  const connections: NatsConnection[] = [];
  let clientPorts: number[] = [];
  let monitorPorts: number[] = [];
  let hubEnv: Record<string, string>;
  let agentEnv: Record<string, string>;
  let key: SigningKey;
  let publisher: BundlePublisher;
  let source: NatsDesiredStateSource | undefined;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "flotilla-deploy-nats-run-"));
    const gen = spawnSync(process.execPath, ["--conditions=@flotilla/source", "--import", TSX, MAIN, "nats-config", "--out", join(dir, "nats"), "--cluster", "edge-1", "--cluster", "edge-2"], { cwd: ROOT, encoding: "utf8" });
    expect(gen.status, gen.stderr).toBe(0);
    hubEnv = envFile(await readFile(join(dir, "nats", "hub.env"), "utf8"));
    agentEnv = envFile(await readFile(join(dir, "nats", "agent-edge-1.env"), "utf8"));

    const r = renderKustomization(fsFileView(ROOT), "deploy/nats/base");
    if (!r.ok) throw r.error;
    const cm = r.objects.find((o) => o.kind === "ConfigMap" && o.metadata.name === "nats-config") as KubeObject & { data: Record<string, string> };
    const taken = new Set<number>();
    while (taken.size < 3 * MEMBERS) taken.add(await freePort());
    const ports = [...taken];
    clientPorts = ports.slice(0, MEMBERS);
    monitorPorts = ports.slice(MEMBERS, 2 * MEMBERS);
    const routePorts = ports.slice(2 * MEMBERS);
    for (let i = 0; i < MEMBERS; i++) {
      const pod = join(dir, `nats-${i}`);
      await mkdir(join(pod, "config"), { recursive: true });
      await mkdir(join(pod, "auth"), { recursive: true });
      await writeFile(join(pod, "auth", "nats-server.conf"), await readFile(join(dir, "nats", "nats-server.conf")));
      const routes: [string, string][] = routePorts.map((p, j) => [`nats://nats-${j}.nats-headless.flotilla-system.svc.cluster.local:6222`, `nats://127.0.0.1:${p}`]);
      const conf = moved(cm.data["nats.conf"]!, [
        ['listen: "0.0.0.0:4222"', `listen: "127.0.0.1:${clientPorts[i]}"`],
        ["http_port: 8222", `http_port: ${monitorPorts[i]}`],
        ['listen: "0.0.0.0:6222"', `listen: "127.0.0.1:${routePorts[i]}"`],
        ...routes,
        ['store_dir: "/data"', `store_dir: "${join(pod, "data")}"`],
        ['pid_file: "/var/run/nats/nats.pid"', `pid_file: "${join(pod, "nats.pid")}"`],
      ]);
      await writeFile(join(pod, "config", "nats.conf"), conf);
      // The included files (leafnodes.conf, client-tls.conf), empty in base, as the pod mounts them.
      for (const [file, text] of Object.entries(cm.data)) if (file !== "nats.conf") await writeFile(join(pod, "config", file), text);
      // As the StatefulSet runs it: --config, POD_NAME from the pod's name.
      const child = spawn("nats-server", ["--config", join(pod, "config", "nats.conf")], { env: { ...process.env, POD_NAME: `nats-${i}` }, stdio: ["ignore", "ignore", "pipe"] });
      logs[i] = "";
      child.stderr?.on("data", (d: Buffer) => (logs[i] = (logs[i] + d.toString()).slice(-4000)));
      servers.push(child);
    }
  });

  afterAll(async () => {
    await source?.stop();
    for (const nc of connections) await nc.close().catch(() => undefined);
    await Promise.all(
      servers.map(
        (s) =>
          new Promise<void>((resolve) => {
            if (s.exitCode !== null || s.signalCode !== null) return resolve();
            s.once("exit", () => resolve());
            s.kill("SIGTERM");
          }),
      ),
    );
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("forms a cluster: every member's readiness probe (GET /healthz) passes", async () => {
    await waitFor(
      async () => {
        servers.forEach((s, i) => {
          if (s.exitCode !== null) throw new Error(`nats-${i} exited (${s.exitCode}): ${logs[i]}`);
        });
        const codes = await Promise.all(monitorPorts.map((p) => fetch(`http://127.0.0.1:${p}/healthz`).then((r) => r.status).catch(() => 0)));
        return codes.every((c) => c === 200) || undefined;
      },
      { timeoutMs: 60_000, intervalMs: 250, what: "all three members healthy (JetStream meta leader elected)" },
    );
    const jsz = (await (await fetch(`http://127.0.0.1:${monitorPorts[0]}/jsz`)).json()) as { config?: { domain?: string }; meta_cluster?: { name?: string; cluster_size?: number } };
    expect(jsz.config?.domain).toBe("hub");
    expect(jsz.meta_cluster).toMatchObject({ name: "flotilla", cluster_size: 3 });
  });

  it("carries a signed pointer and bundle from the hub's user on one member to the agent's on another", async () => {
    const names = wireNames(hubEnv["FLOTILLA_NATS_PREFIX"]!);
    const hubNc = await connect({ servers: `nats://127.0.0.1:${clientPorts[0]}`, user: hubEnv["NATS_USER"]!, pass: hubEnv["NATS_PASSWORD"]! });
    connections.push(hubNc);
    publisher = new BundlePublisher({ nc: hubNc, names });
    await publisher.ensureResources();
    key = generateSigningKey();
    const revision = "d".repeat(40);
    const pointers: Record<string, string> = {};
    for (const cluster of ["edge-1", "edge-2"]) {
      const bundle: Bundle = { apiVersion: BUNDLE_API_VERSION, cluster, revision, apps: [] };
      const digest = await publisher.publishBundle(bundle);
      pointers[cluster] = (await publisher.publishPointer({ cluster, revision, bundleDigest: digest, generation: 1, issuedAt: new Date().toISOString() }, key)).bundleDigest;
    }

    const agentUrl = `nats://127.0.0.1:${clientPorts[2]}`;
    const creds = { servers: agentUrl, user: agentEnv["NATS_USER"]!, pass: agentEnv["NATS_PASSWORD"]!, inboxPrefix: agentEnv["FLOTILLA_NATS_INBOX_PREFIX"]! };
    const errors: string[] = [];
    source = new NatsDesiredStateSource({
      connection: () => connectAgentNats(creds),
      names: wireNames(agentEnv["FLOTILLA_NATS_PREFIX"]!),
      cluster: "edge-1",
      publicKey: key.publicKey,
      cacheDir: await mkdtemp(join(dir, "cache-")),
      onError: (err, during) => errors.push(`${during}: ${String(err)}`),
    });
    let got: { cluster: string; digest: string } | undefined;
    await source.start({ onDesired: (d) => (got = { cluster: d.bundle.cluster, digest: d.pointer.bundleDigest }), onRefused: (r) => errors.push(`refused: ${JSON.stringify(r)}`) });
    await waitFor(() => got, { timeoutMs: 30_000, what: `edge-1's desired state via nats-2 (errors: ${errors.join("; ")})` });
    expect(got).toEqual({ cluster: "edge-1", digest: pointers["edge-1"] });

    // The same user cannot read edge-2's pointer through the cluster.
    const nc = await connect(creds);
    connections.push(nc);
    const b = names.desiredBucket;
    await expect(nc.request(`$JS.API.DIRECT.GET.KV_${b}.$KV.${b}.edge-2.desired`, "", { timeout: 2_000 })).rejects.toThrow();
    // The streams the hub made live in the cluster.
    const info = await (await jetstreamManager(hubNc)).streams.info(`KV_${b}`);
    expect(info.cluster?.name).toBe("flotilla");
  });
});
