// The generated NATS server configuration: what it grants, that nats-server 2.9 accepts it, the
// credential files, and that the hub's own work (ingest with acks, KV watches, publishing) runs
// under the hub user it defines. Agent-side isolation: agents/cluster-agent/test/nats-isolation.test.ts.
import { spawnSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { jetstream } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { HeartbeatReport } from "@flotilla/model";
import { createTestDatabase, freePort, startConfiguredNats, type NatsServerProcess, type TestDatabase } from "@flotilla/testkit";
import { migrateToLatest, openDatabase, type FleetDatabase } from "@flotilla/store";
import { encodeJson, reportSubject, wireNames } from "@flotilla/wire";
import { startIngest, type IngestHandle } from "../src/ingest.js";
import { agentInboxPrefix, agentNatsUser, agentPermissions, generateNatsConfig, generateNatsPassword, hubPermissions } from "../src/nats-auth.js";
import { NATS_CONFIG_FILE, leafRemoteUrl, writeFleetNatsFiles } from "../src/nats-auth-files.js";
import { BundlePublisher } from "../src/publish.js";

const names = wireNames("fleet");

/** `nats-server -t`: parses the configuration and exits; status 0 when it is valid. */
async function natsServerAccepts(config: string): Promise<{ ok: boolean; output: string }> {
  const dir = await mkdtemp(join(tmpdir(), "flotilla-nats-conf-"));
  try {
    const path = join(dir, "nats.conf");
    await writeFile(path, config, { mode: 0o600 });
    const r = spawnSync("nats-server", ["-t", "-c", path], { encoding: "utf8", timeout: 20_000 });
    return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe("generateNatsConfig", () => {
  const clusters = [
    { name: "prod-eu-1", password: generateNatsPassword() },
    { name: "edge-2", user: "edge-two", password: generateNatsPassword() },
  ];
  const config = generateNatsConfig({ names, clusters, hub: { user: "hub", password: "hub-secret" }, listen: "127.0.0.1:4333", jetstreamDir: "/var/lib/nats" });

  it("is a configuration nats-server 2.9 accepts", async () => {
    const r = await natsServerAccepts(config);
    expect(r.ok, r.output).toBe(true);
  });

  it("has one user per identity with its own permissions", () => {
    expect(config).toContain('listen: "127.0.0.1:4333"');
    expect(config).toContain('store_dir: "/var/lib/nats"');
    expect(config.match(/^\s+user: /gm)).toHaveLength(3);
    expect(config).toContain('user: "agent-prod-eu-1"');
    expect(config).toContain('user: "edge-two"');
    expect(config).toContain(`password: "${clusters[0]!.password}"`);
    for (const subject of agentPermissions(names, "edge-2").publish) expect(config).toContain(`"${subject}"`);
    expect(config).toContain(`subscribe: { allow: ["_INBOX_edge-2.>"] }`);
  });

  it("grants an agent its own keys, watches, reports and inbox, and never a body-addressed read of the bucket", () => {
    const p = agentPermissions(names, "prod-eu-1");
    expect(p.subscribe).toEqual([`${agentInboxPrefix("prod-eu-1")}.>`]);
    expect(p.publish).toContain("fleet.report.prod-eu-1.>");
    expect(p.publish).toContain("$JS.API.DIRECT.GET.KV_fleet-desired.$KV.fleet-desired.prod-eu-1.>");
    expect(p.publish).toContain("$JS.API.CONSUMER.CREATE.KV_fleet-desired.*.$KV.fleet-desired.prod-eu-1.>");
    expect(p.publish).toContain("$JS.FC.KV_fleet-desired.>");
    for (const forbidden of ["$JS.API.STREAM.MSG.GET.KV_fleet-desired", "$JS.API.DIRECT.GET.KV_fleet-desired", "$JS.API.>", ">", "$JS.API.INFO"]) {
      expect(p.publish).not.toContain(forbidden);
    }
    // Every grant on the bucket or the report subjects names the cluster before any wildcard of
    // the subject it addresses (the `*` after CONSUMER.CREATE.<stream> is the consumer name).
    const scoped = p.publish.filter((s) => (s.includes("KV_") && !s.startsWith("$JS.FC.")) || s.startsWith("fleet.report."));
    expect(scoped).toHaveLength(3);
    for (const subject of scoped) {
      const tokens = subject.replace(/^(\$JS\.API\.CONSUMER\.CREATE\.[^.]+)\.\*\./, "$1.NAME.").split(".");
      const firstWildcard = tokens.findIndex((t) => t === "*" || t === ">");
      expect(firstWildcard, subject).toBeGreaterThan(tokens.indexOf("prod-eu-1"));
      expect(tokens.indexOf("prod-eu-1"), subject).toBeGreaterThan(-1);
    }
    // Bundles: only the cluster's own store, whose stream and subjects name the cluster before
    // any wildcard.
    const bundles = p.publish.filter((s) => s.includes("OBJ_"));
    expect(bundles).toEqual([
      "$JS.API.STREAM.MSG.GET.OBJ_fleet-bundles-prod-eu-1",
      "$JS.API.CONSUMER.CREATE.OBJ_fleet-bundles-prod-eu-1.*.$O.fleet-bundles-prod-eu-1.C.*",
      "$JS.FC.OBJ_fleet-bundles-prod-eu-1.>",
    ]);
    expect(p.publish.filter((s) => s.includes("bundles") && !s.includes("fleet-bundles-prod-eu-1"))).toEqual([]);
    // Agents' grants differ only by their cluster.
    expect(agentPermissions(names, "b").publish).toEqual(
      agentPermissions(names, "a").publish.map((s) => s.replace(".a.", ".b.").replace(/-bundles-a(?=\.|$)/g, "-bundles-b")),
    );
  });

  it("gives the hub JetStream, its bucket, the bundle stores and acks, and no report subject", () => {
    const p = hubPermissions(names);
    expect(p.publish).toEqual(expect.arrayContaining(["$JS.API.>", "$KV.fleet-desired.>", "$O.>", `$JS.ACK.${names.reportStream}.>`, "$JS.FC.>"]));
    expect(p.publish.some((s) => s.startsWith("fleet.report"))).toBe(false);
    expect(p.subscribe).toEqual(["_INBOX.>"]);
  });

  it("refuses names and passwords it cannot write safely, and duplicates", () => {
    const hub = { user: "hub", password: "x" };
    expect(() => generateNatsConfig({ names, hub, clusters: [{ name: "Bad.Name", password: "x" }] })).toThrow(/cluster name "Bad.Name"/);
    expect(() => generateNatsConfig({ names, hub, clusters: [{ name: "a", password: 'with"quote' }] })).toThrow(/password of agent of cluster a/);
    expect(() => generateNatsConfig({ names, hub, clusters: [{ name: "a", password: "with space" }] })).toThrow(/password/);
    expect(() => generateNatsConfig({ names, hub, clusters: [{ name: "a", password: "x" }, { name: "a", password: "y" }] })).toThrow(/listed twice/);
    expect(() => generateNatsConfig({ names, hub, clusters: [{ name: "a", user: "hub", password: "y" }] })).toThrow(/user "hub"/);
  });

  it("generates distinct URL-safe passwords of 256 bits", () => {
    const a = generateNatsPassword();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(generateNatsPassword()).not.toBe(a);
  });

  it("with a JetStream domain, grants each $JS.API subject of an agent also as $JS.<domain>.API (for agents behind a leaf node), and writes the domain", () => {
    const local = agentPermissions(names, "prod-eu-1");
    const p = agentPermissions(names, "prod-eu-1", { jsDomain: "hub" });
    const api = local.publish.filter((s) => s.startsWith("$JS.API."));
    expect(api.length).toBeGreaterThan(0);
    expect(p.publish).toEqual([...local.publish, ...api.map((s) => s.replace("$JS.API.", "$JS.hub.API."))]);
    expect(p.subscribe).toEqual(local.subscribe);
    const config = generateNatsConfig({ names, hub: { user: "hub", password: "x" }, clusters: [{ name: "prod-eu-1", password: "y" }], jsDomain: "hub" });
    expect(config).toContain('domain: "hub"');
    expect(config).toContain('"$JS.hub.API.DIRECT.GET.KV_fleet-desired.$KV.fleet-desired.prod-eu-1.>"');
    expect(() => agentPermissions(names, "a", { jsDomain: "a.b" })).toThrow(/JetStream domain/);
  });
});

describe("writeFleetNatsFiles", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "flotilla-nats-files-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("writes the config, the credentials and one env file per agent, all 0600, and keeps passwords across regenerations", async () => {
    const first = await writeFleetNatsFiles({ dir, names, clusters: ["a", "b"] });
    expect(first.added).toEqual(["a", "b"]);
    expect(first.configPath).toBe(join(dir, NATS_CONFIG_FILE));
    for (const path of [first.configPath, first.credentialsPath, first.hub.envPath, first.agents.a!.envPath, first.agents.b!.envPath]) {
      expect(((await stat(path)).mode & 0o777).toString(8), path).toBe("600");
    }
    expect(await readFile(first.agents.a!.envPath, "utf8")).toBe(
      `NATS_USER=${agentNatsUser("a")}\nNATS_PASSWORD=${first.agents.a!.password}\nFLOTILLA_NATS_INBOX_PREFIX=_INBOX_a\nFLOTILLA_NATS_PREFIX=fleet\n`,
    );
    expect(await readFile(first.hub.envPath, "utf8")).toContain(`NATS_USER=hub\nNATS_PASSWORD=${first.hub.password}\n`);
    const config = await readFile(first.configPath, "utf8");
    expect(config).toContain(`password: "${first.agents.b!.password}"`);
    expect((await natsServerAccepts(config)).ok).toBe(true);

    const second = await writeFleetNatsFiles({ dir, names, clusters: ["b", "c"] });
    expect(second.added).toEqual(["c"]);
    expect(second.removed).toEqual(["a"]);
    expect(second.hub.password).toBe(first.hub.password);
    expect(second.agents.b!.password).toBe(first.agents.b!.password);
    expect(second.agents.a).toBeUndefined();
    await expect(stat(first.agents.a!.envPath)).rejects.toThrow(/ENOENT/);
    const config2 = await readFile(second.configPath, "utf8");
    expect(config2).not.toContain("agent-a");
    expect(config2).toContain('user: "agent-c"');
  });

  it("fails on a damaged credentials file, naming it, instead of rotating every password", async () => {
    const bad = await mkdtemp(join(dir, "bad-"));
    await writeFile(join(bad, "credentials.json"), "{not json");
    await expect(writeFleetNatsFiles({ dir: bad, names, clusters: ["a"] })).rejects.toThrow(/credentials\.json is not JSON/);
    await writeFile(join(bad, "credentials.json"), '{"hub":{"user":"hub"}}');
    await chmod(join(bad, "credentials.json"), 0o600);
    await expect(writeFleetNatsFiles({ dir: bad, names, clusters: ["a"] })).rejects.toThrow(/must hold/);
  });

  it("with a leaf URL, writes leaf-<cluster>.env (the URL with the agent's credentials) per cluster, 0600, and removes it with the cluster", async () => {
    const leafDir = await mkdtemp(join(dir, "leaf-"));
    const first = await writeFleetNatsFiles({ dir: leafDir, names, clusters: ["a", "b"], jsDomain: "hub", leafUrl: "tls://leaf.nats.example.com:7422" });
    for (const c of ["a", "b"]) {
      const path = first.agents[c]!.leafEnvPath!;
      expect(path).toBe(join(leafDir, `leaf-${c}.env`));
      expect(((await stat(path)).mode & 0o777).toString(8)).toBe("600");
      expect(await readFile(path, "utf8")).toBe(`FLOTILLA_LEAF_URL=tls://agent-${c}:${first.agents[c]!.password}@leaf.nats.example.com:7422\n`);
    }
    expect(await readFile(first.agents.a!.envPath, "utf8")).toContain("FLOTILLA_NATS_JS_DOMAIN=hub\n");
    const second = await writeFleetNatsFiles({ dir: leafDir, names, clusters: ["b"], leafUrl: "tls://leaf.nats.example.com:7422" });
    await expect(stat(join(leafDir, "leaf-a.env"))).rejects.toThrow(/ENOENT/);
    expect(second.agents.b!.leafEnvPath).toBe(join(leafDir, "leaf-b.env"));
    // Without the option no leaf file is written.
    expect((await writeFleetNatsFiles({ dir: await mkdtemp(join(dir, "noleaf-")), names, clusters: ["a"] })).agents.a!.leafEnvPath).toBeUndefined();
  });

  it("refuses a leaf URL that is not scheme://host:port, has credentials or an unknown scheme, before writing anything", async () => {
    expect(leafRemoteUrl("nats://127.0.0.1:7422", "agent-a", "p_w-1")).toBe("nats://agent-a:p_w-1@127.0.0.1:7422");
    for (const [url, why] of [
      ["leaf.example.com:7422", /scheme/],
      ["http://leaf.example.com:7422", /scheme/],
      ["tls://u:p@leaf.example.com:7422", /credentials/],
      ["tls://leaf.example.com:7422/path", /scheme:\/\/host:port/],
      ["not a url", /not a URL/],
    ] as const) {
      expect(() => leafRemoteUrl(url, "agent-a", "x"), url).toThrow(why);
    }
    const empty = await mkdtemp(join(dir, "badleaf-"));
    await expect(writeFleetNatsFiles({ dir: empty, names, clusters: ["a"], leafUrl: "http://x:1" })).rejects.toThrow(/scheme/);
    await expect(stat(join(empty, NATS_CONFIG_FILE))).rejects.toThrow(/ENOENT/);
  });

  it("with a NATS CA path, writes NATS_CA into hub.env and every agent env file, and without it none", async () => {
    const caDir = await mkdtemp(join(dir, "ca-"));
    const files = await writeFleetNatsFiles({ dir: caDir, names, clusters: ["a", "b"], natsCaFile: "/etc/flotilla/nats-ca/ca.crt" });
    for (const path of [files.hub.envPath, files.agents.a!.envPath, files.agents.b!.envPath]) {
      expect(await readFile(path, "utf8"), path).toContain("NATS_CA=/etc/flotilla/nats-ca/ca.crt\n");
    }
    const plain = await writeFleetNatsFiles({ dir: await mkdtemp(join(dir, "noca-")), names, clusters: ["a"] });
    expect(await readFile(plain.hub.envPath, "utf8")).not.toContain("NATS_CA");
    expect(await readFile(plain.agents.a!.envPath, "utf8")).not.toContain("NATS_CA");
  });

  it("writes nothing when a cluster name is invalid", async () => {
    const empty = await mkdtemp(join(dir, "invalid-"));
    await expect(writeFleetNatsFiles({ dir: empty, names, clusters: ["ok", "Not_OK"] })).rejects.toThrow(/Not_OK/);
    await expect(stat(join(empty, NATS_CONFIG_FILE))).rejects.toThrow(/ENOENT/);
  });
});

describe("the hub's work under the generated hub user", () => {
  let dir: string;
  let server: NatsServerProcess | undefined;
  let hubNc: NatsConnection | undefined;
  let agentNc: NatsConnection | undefined;
  let fleet: FleetDatabase | undefined;
  let testDb: TestDatabase | undefined;
  let ingest: IngestHandle | undefined;

  afterEach(async () => {
    await ingest?.stop();
    await agentNc?.close();
    await hubNc?.close();
    await fleet?.close();
    await testDb?.drop();
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("ingests an agent's report (acks included), publishes desired state and watches the bucket", async () => {
    dir = await mkdtemp(join(tmpdir(), "flotilla-nats-hub-"));
    const prefixed = wireNames(`hubauth${Date.now().toString(36)}`);
    const port = await freePort();
    const files = await writeFleetNatsFiles({ dir, names: prefixed, clusters: ["a"], listen: `127.0.0.1:${port}`, jetstreamDir: join(dir, "js") });
    server = await startConfiguredNats(files.configPath, port);
    const url = server.url;
    hubNc = await connect({ servers: url, user: files.hub.user, pass: files.hub.password });
    testDb = await createTestDatabase("natsauth");
    fleet = await openDatabase({ url: testDb.url });
    await migrateToLatest(fleet.db);
    ingest = await startIngest({ nc: hubNc, names: prefixed, db: fleet.db });

    const a = files.agents.a!;
    agentNc = await connect({ servers: url, user: a.user, pass: a.password, inboxPrefix: a.inboxPrefix });
    const report: HeartbeatReport = { id: randomUUID(), kind: "heartbeat", cluster: "a", agent: "a/test/1", at: new Date().toISOString(), generation: 0, deadlineSeconds: 30 };
    await jetstream(agentNc).publish(reportSubject(prefixed, "a", "heartbeat"), encodeJson(report), { msgID: report.id });
    await waitFor("the report ingested", () => ingest!.counts.ingested === 1);
    // The ack reached JetStream: nothing pending, nothing awaiting an ack.
    const jsm = await jetstream(hubNc).jetstreamManager();
    await waitFor("the ingest consumer drained", async () => {
      const info = await jsm.consumers.info(prefixed.reportStream, prefixed.ingestConsumer);
      return info.num_pending === 0 && info.num_ack_pending === 0;
    });

    // Publishing desired state and watching the bucket (the hub's break-glass records live there).
    const kv = await new Kvm(hubNc).create(prefixed.desiredBucket, { history: 10, allow_direct: true });
    const watch = await kv.watch({ key: "a.control" });
    await new BundlePublisher({ nc: hubNc, names: prefixed }).ensureResources();
    await kv.put("a.control", "{}");
    for await (const e of watch) {
      expect(e.key).toBe("a.control");
      break;
    }
  });
});

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
