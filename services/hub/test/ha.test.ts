// Hub high availability in one process: two hubs on the same Postgres database and NATS prefix
// (this test's own). Exactly one leads (resolves and publishes); the other serves the API and
// ingests. The leader's Postgres session is cut while it is in the middle of a resolve: the other
// takes over within a bound, the deposed one's publish is fenced, the pointers' generations in
// the KV history only ever increase, and every report published during the failover is stored.
import { createHmac, randomUUID } from "node:crypto";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createServer, connect as netConnect, type AddressInfo, type Socket } from "node:net";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import pg from "pg";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { ErrorCode, type Bundle, type SignedControlRecord } from "@flotilla/model";
import { controlKey, decodeJson, desiredKey, encodeJson, generateSigningKey, parseSignedPointer, reportSubject, verifyControl, wireNames, type SigningKey } from "@flotilla/wire";
import { commitFiles, createWorkRepo, readFilesFrom } from "@flotilla/envrepo/testing";
import { createTestDatabase, createTestNats, waitFor, type TestDatabase, type TestNats } from "@flotilla/testkit";
import { DEFAULT_CHECK_TIMEOUT_MS } from "@flotilla/store";
import { startHub, type Hub, type HubConfig } from "../src/hub.js";
import { driftProbeReport } from "@flotilla/hub/testing";
import { HUB_ACTOR } from "../src/break-glass.js";
import { BundlePublisher, PublishFencedError } from "../src/publish.js";

const EXAMPLE = fileURLToPath(new URL("../../../examples/env-repo", import.meta.url));
const DEPLOYMENT = "apps/shop/10-inventory-api.yaml";
const CLUSTERS = ["dev-1", "prod-1"];
const LEADER_POLL_MS = 200;
/** A follower takes over within a few lease polls plus one full resolve of the example repo. */
const TAKEOVER_BOUND_MS = 10_000;
const REPORTS = 300;
const WEBHOOK_SECRET = "ha-test-webhook-secret-0123456789";

let db: TestDatabase;
let nats: TestNats;
let nc: NatsConnection;
let pool: pg.Pool;
let dir: string;
let key: SigningKey;
const hubs: Hub[] = [];
let releaseGate: () => void = () => undefined;

beforeEach(async () => {
  db = await createTestDatabase("ha");
  nats = createTestNats("ha");
  nc = await connect({ servers: nats.url });
  pool = new pg.Pool({ connectionString: db.url, max: 2 });
  dir = await mkdtemp(join(tmpdir(), "hub-ha-"));
  await createWorkRepo(dir, await readFilesFrom(EXAMPLE));
  key = generateSigningKey();
}, 60_000);

afterEach(async () => {
  releaseGate();
  for (const h of hubs.splice(0)) await h.stop();
  await pool?.end();
  await nc?.close();
  await nats?.cleanup();
  await db?.drop();
  await rm(dir, { recursive: true, force: true });
}, 60_000);

async function replica(hubId: string, databaseUrl = db.url, extra: Partial<HubConfig> = {}): Promise<Hub> {
  const hub = await startHub({
    auth: { insecureNoAuth: true },
    repo: { path: dir },
    databaseUrl,
    natsUrl: nats.url,
    natsPrefix: nats.prefix,
    signingKey: key,
    port: 0,
    // No resolver polling: resolves happen when the test (or a leadership change) asks.
    pollIntervalMs: 3_600_000,
    promotionWriter: false,
    hubId,
    leaderPollMs: LEADER_POLL_MS,
    webhookSecrets: [WEBHOOK_SECRET],
    ...extra,
  });
  hubs.push(hub);
  return hub;
}

/**
 * A TCP relay to Postgres that can black-hole traffic: bytes are dropped in both directions and no
 * socket is closed — what a network partition looks like to both ends. heal() resets every relayed
 * connection (the dropped bytes broke their streams).
 */
async function blackHoleRelay(targetPort: number): Promise<{ port: number; blackHole(): void; heal(): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let dropping = false;
  const server = createServer((client) => {
    const upstream = netConnect(targetPort, "127.0.0.1");
    for (const [from, to] of [[client, upstream], [upstream, client]] as const) {
      sockets.add(from);
      from.on("data", (d) => void (dropping || to.write(d)));
      from.on("error", () => undefined);
      from.on("close", () => {
        sockets.delete(from);
        to.destroy();
      });
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    blackHole: () => void (dropping = true),
    heal() {
      dropping = false;
      for (const s of sockets) s.destroy();
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Every version of each cluster's pointer the KV bucket holds, oldest first. */
async function pointerHistory(cluster: string): Promise<{ generation: number; revision: string }[]> {
  const kv = await new Kvm(nc).open(wireNames(nats.prefix).desiredBucket);
  const out: { generation: number; revision: string }[] = [];
  for await (const e of await kv.history({ key: desiredKey(cluster) })) {
    if (e.operation !== "PUT") continue;
    const p = parseSignedPointer(decodeJson(e.value));
    out.push({ generation: p.generation, revision: p.revision });
  }
  return out;
}

/** Every version of a cluster's break-glass control record the KV holds, oldest first. */
async function controlHistory(cluster: string): Promise<SignedControlRecord[]> {
  const kv = await new Kvm(nc).open(wireNames(nats.prefix).desiredBucket);
  const out: SignedControlRecord[] = [];
  for await (const e of await kv.history({ key: controlKey(cluster) })) if (e.operation === "PUT") out.push(decodeJson(e.value) as SignedControlRecord);
  return out;
}

/** Drift reports probe-0..probe-<n-1> on JetStream with message ids, as agents publish them. */
async function publishReports(n: number): Promise<void> {
  const js = jetstream(nc);
  const names = wireNames(nats.prefix);
  for (let k = 0; k < n; k += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, n - k) }, (_, i) => {
        const report = driftProbeReport({ cluster: "dev-1", index: k + i, app: "shop", actor: "ha-probe" });
        return js.publish(reportSubject(names, "dev-1", "drift"), encodeJson(report), { msgID: report.id });
      }),
    );
  }
}

async function storedReports(): Promise<number> {
  const { rows } = await pool.query<{ n: string }>("select count(distinct name) as n from drift_events where actor = 'ha-probe'");
  return Number(rows[0]!.n);
}

describe("hub high availability (two replicas, one database, one NATS prefix)", () => {
  it("exactly one replica resolves; the follower serves the API, ingests, and hands refreshes and webhooks to the leader", async () => {
    const a = await replica("hub-a");
    const b = await replica("hub-b");
    expect(a.leadership.role()).toBe("leader");
    expect(b.leadership.role()).toBe("follower");
    expect(a.resolver.lastGood()).toBeDefined();
    expect(b.resolver.lastGood()).toBeUndefined();

    const ready = await (await fetch(`${b.url}/readyz`)).json();
    expect(ready).toMatchObject({ status: "ready", role: "follower", leader: "hub-a" });
    expect(await (await fetch(`${a.url}/readyz`)).json()).toMatchObject({ status: "ready", role: "leader", leader: "hub-a" });

    // A new commit: only the leader publishes it.
    const followerPublishes = vi.spyOn(b.publisher, "publishPointer");
    const text = await readFile(join(dir, DEPLOYMENT), "utf8");
    const scaled = await commitFiles(dir, { [DEPLOYMENT]: text.replace("replicas: 2", "replicas: 4") }, "Scale to 4");
    expect(await a.resolver.refresh()).toMatchObject({ revision: scaled, failed: false });
    expect(followerPublishes).not.toHaveBeenCalled();
    expect(b.resolver.lastGood()).toBeUndefined();

    // A refresh asked of the follower (the API, or a Git webhook behind a load balancer) is handed
    // to the leader over Postgres NOTIFY: 202 naming the leader, and the leader resolves.
    const again = await commitFiles(dir, { [DEPLOYMENT]: text.replace("replicas: 2", "replicas: 5") }, "Scale to 5");
    const handed = await fetch(`${b.url}/v1/refresh`, { method: "POST" });
    expect(handed.status).toBe(202);
    expect(await handed.json()).toEqual({ handedOff: true, leader: "hub-a" });
    await waitFor(() => a.resolver.lastGood() === again, { what: "the leader resolving the handed-off refresh", timeoutMs: 15_000, intervalMs: 20 });
    const pushed = await commitFiles(dir, { [DEPLOYMENT]: text.replace("replicas: 2", "replicas: 7") }, "Scale to 7");
    const body = JSON.stringify({ ref: "refs/heads/main", after: pushed });
    const hook = await fetch(`${b.url}/v1/webhooks/git`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-github-event": "push", "x-github-delivery": randomUUID(), "x-hub-signature-256": `sha256=${createHmac("sha256", WEBHOOK_SECRET).update(body).digest("hex")}` },
      body,
    });
    expect(hook.status).toBe(202);
    expect(await hook.json()).toMatchObject({ refreshing: true, leader: "hub-a", after: pushed });
    await waitFor(() => a.resolver.lastGood() === pushed, { what: "the leader resolving the webhook's push", timeoutMs: 15_000, intervalMs: 20 });
    expect(followerPublishes).not.toHaveBeenCalled();
    expect(b.resolver.lastGood()).toBeUndefined();

    // Both replicas ingest from the one durable consumer.
    await publishReports(100);
    await waitFor(async () => (await storedReports()) === 100, { what: "100 reports stored", timeoutMs: 30_000, intervalMs: 50 });
  }, 90_000);

  it("the leader's Postgres session ends mid-resolve: the follower takes over, the old leader's publish is fenced, generations only increase, no report is lost", async () => {
    const a = await replica("hub-a");
    const b = await replica("hub-b");
    expect(a.leadership.role()).toBe("leader");

    // Hold the leader inside its next resolve, after the render, before any pointer is published.
    let entered!: () => void;
    const inside = new Promise<void>((r) => (entered = r));
    const gate = new Promise<void>((r) => (releaseGate = r));
    const store = a.publisher.publishBundle.bind(a.publisher);
    vi.spyOn(a.publisher, "publishBundle").mockImplementation(async (bundle: Bundle) => {
      entered();
      await gate;
      return store(bundle);
    });
    const text = await readFile(join(dir, DEPLOYMENT), "utf8");
    const scaled = await commitFiles(dir, { [DEPLOYMENT]: text.replace("replicas: 2", "replicas: 6") }, "Scale to 6");
    const deposedResolve = a.resolver.refresh();
    await inside;

    // Reports keep arriving during the failover.
    const publishing = publishReports(REPORTS);
    // Cut the leader's lease session, as a crashed connection or pg_terminate_backend would.
    const t0 = performance.now();
    const { rowCount } = await pool.query("select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'flotilla-leader:hub-a' and datname = current_database()");
    expect(rowCount).toBe(1);
    await waitFor(() => b.leadership.role() === "leader" && b.resolver.lastGood() === scaled, { what: "hub-b leading and publishing the new commit", timeoutMs: TAKEOVER_BOUND_MS, intervalMs: 20 });
    const takeoverMs = performance.now() - t0;
    expect(takeoverMs).toBeLessThan(TAKEOVER_BOUND_MS);
    await waitFor(() => a.leadership.role() === "follower", { what: "hub-a stepping down", timeoutMs: 5_000, intervalMs: 20 });

    // The deposed leader carries on with its resolve: the fence refuses every pointer.
    const followerPublishes = vi.spyOn(a.publisher, "publishPointer");
    releaseGate();
    const outcome = await deposedResolve;
    expect(outcome).toMatchObject({ revision: scaled, published: 0, failed: true, fenced: true });
    expect(outcome.errors?.[0]?.code).toBe(ErrorCode.NotLeader);
    // Tried, and refused (or stopped before): nothing of hub-a's reached the KV.
    for (const call of followerPublishes.mock.results) await expect(call.value).rejects.toBeInstanceOf(PublishFencedError);

    for (const cluster of CLUSTERS) {
      const history = await pointerHistory(cluster);
      const generations = history.map((h) => h.generation);
      expect(generations.length).toBeGreaterThan(1);
      for (let i = 1; i < generations.length; i++) expect(generations[i]).toBeGreaterThan(generations[i - 1]!);
      expect(history.at(-1)!.revision).toBe(scaled);
    }
    // Postgres's record agrees with the KV: one row per published generation, the last one is scaled.
    const { rows } = await pool.query<{ cluster: string; generation: string; revision: string }>("select cluster, generation, revision from desired_pointers order by cluster, generation");
    for (const cluster of CLUSTERS) expect(rows.filter((r) => r.cluster === cluster).at(-1)?.revision).toBe(scaled);

    await publishing;
    await waitFor(async () => (await storedReports()) === REPORTS, { what: `${REPORTS} reports stored`, timeoutMs: 60_000, intervalMs: 50 });
    console.log(`[ha] takeover after the leader's session ended: ${takeoverMs.toFixed(0)} ms (lease poll ${LEADER_POLL_MS} ms)`);
  }, 120_000);

  it("a leader partitioned from Postgres (packets black-holed, no FIN/RST) steps down within poll + check timeout, and the other replica takes over", async () => {
    // hub-a reaches Postgres through a relay the test can black-hole; hub-b connects directly.
    const relay = await blackHoleRelay(new URL(db.url).port ? Number(new URL(db.url).port) : 5432);
    const viaRelay = new URL(db.url);
    viaRelay.port = String(relay.port);
    const a = await replica("hub-a", viaRelay.toString());
    const b = await replica("hub-b");
    expect(a.leadership.role()).toBe("leader");
    const text = await readFile(join(dir, DEPLOYMENT), "utf8");
    const scaled = await commitFiles(dir, { [DEPLOYMENT]: text.replace("replicas: 2", "replicas: 3") }, "Scale to 3");

    const t0 = performance.now();
    relay.blackHole();
    await waitFor(() => a.leadership.role() === "follower", { what: "the partitioned leader stepping down", timeoutMs: LEADER_POLL_MS + DEFAULT_CHECK_TIMEOUT_MS + 2_000, intervalMs: 20 });
    const steppedDownMs = performance.now() - t0;
    // Its lease session was dropped (destroyed, so the relay closed the server side): the lock is free.
    await waitFor(() => b.leadership.role() === "leader" && b.resolver.lastGood() === scaled, { what: "hub-b leading and publishing", timeoutMs: TAKEOVER_BOUND_MS, intervalMs: 20 });
    const takeoverMs = performance.now() - t0;
    expect(steppedDownMs).toBeLessThan(LEADER_POLL_MS + DEFAULT_CHECK_TIMEOUT_MS + 2_000);
    for (const cluster of CLUSTERS) expect((await pointerHistory(cluster)).at(-1)!.revision).toBe(scaled);
    console.log(`[ha] partition: leader stepped down after ${steppedDownMs.toFixed(0)} ms, the other replica published after ${takeoverMs.toFixed(0)} ms`);
    // Heal (every relayed connection is reset, so hub-a's pool reconnects) before teardown.
    relay.heal();
    hubs.splice(hubs.indexOf(a), 1);
    await a.stop();
    await relay.close();
  }, 90_000);

  it("a compare-and-set lost to another writer is a fenced publish, not an overwrite", async () => {
    const names = wireNames(nats.prefix);
    const mine = new BundlePublisher({ nc, names });
    const theirs = new BundlePublisher({ nc, names });
    const base = { cluster: "dev-1", revision: "a".repeat(40), bundleDigest: `sha256:${"0".repeat(64)}`, issuedAt: new Date().toISOString() };
    await mine.publishPointer({ ...base, generation: 1 }, key);
    // The fence says yes, but another hub publishes between this hub's read and its write.
    const racing = () => theirs.publishPointer({ ...base, revision: "b".repeat(40), generation: 3 }, key).then(() => true);
    const err = await mine.publishPointer({ ...base, generation: 2 }, key, racing).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PublishFencedError);
    expect((err as PublishFencedError).by).toBe("revision");
    expect((await mine.readPointer("dev-1"))?.generation).toBe(3);
    // The lease gone: refused before the write.
    const lost = await mine.publishPointer({ ...base, generation: 4 }, key, async () => false).catch((e: unknown) => e);
    expect(lost).toMatchObject({ by: "lease", code: ErrorCode.NotLeader });
    expect((await mine.readPointer("dev-1"))?.generation).toBe(3);
  }, 30_000);
  it("break-glass on two replicas: each window that expires is recorded expired once, whichever replica sweeps; the control record only moves to higher generations and ends empty", async () => {
    // Both replicas sweep every 20 ms (the API's changes reach any replica, so both publish too).
    const a = await replica("hub-a", db.url, { breakGlassSweepMs: 20 });
    const b = await replica("hub-b", db.url, { breakGlassSweepMs: 20 });
    const expiresAt = new Date(Date.now() + 2_000);
    const started = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        (i % 2 ? a : b).breakGlass.start(CLUSTERS[i % CLUSTERS.length]!, { scope: { kind: "app", app: "shop" }, reason: `INC-${i}`, author: "ada", expiresAt }),
      ),
    );
    // Every window is in the record agents read, signed by the hub.
    for (const cluster of CLUSTERS) {
      const held = await waitFor(async () => {
        const last = (await controlHistory(cluster)).at(-1);
        return last && last.windows.length === 6 ? last : undefined;
      }, { what: `${cluster}'s control record holding its 6 windows`, timeoutMs: 10_000, intervalMs: 20 });
      expect(verifyControl(held, key.publicKey)).toBe(true);
    }

    // Past the expiry: both sweeps race for the same windows.
    await waitFor(async () => {
      const { rows } = await pool.query<{ n: string }>("select count(*) as n from break_glass_windows where ended_at is null");
      return Number(rows[0]!.n) === 0;
    }, { what: "every window expired", timeoutMs: 15_000, intervalMs: 20 });
    const { rows: audit } = await pool.query<{ window_id: string; event: string; actor: string; at: Date }>("select window_id, event, actor, at from break_glass_audit order by id");
    for (const w of started) {
      const rows = audit.filter((r) => r.window_id === w.id);
      expect(rows.map((r) => r.event)).toEqual(["started", "expired"]);
      expect(rows[1]).toMatchObject({ actor: HUB_ACTOR, at: expiresAt });
    }

    // What agents see: per cluster, the last record is empty, signed, of the highest generation
    // Postgres issued, and no record ever came after one of a higher generation.
    // (A publish may still be in flight when the windows are all expired: wait for the KV to hold
    // the generation Postgres issued last.)
    for (const cluster of CLUSTERS) {
      const last = await waitFor(async () => {
        const r = (await controlHistory(cluster)).at(-1);
        const { rows } = await pool.query<{ generation: string }>("select generation from break_glass_control where cluster = $1", [cluster]);
        return r && r.generation === Number(rows[0]!.generation) ? r : undefined;
      }, { what: `${cluster}'s control record at the last generation issued`, timeoutMs: 10_000, intervalMs: 20 });
      expect(last.windows).toEqual([]);
      expect(verifyControl(last, key.publicKey)).toBe(true);
      const history = (await controlHistory(cluster)).map((r) => r.generation);
      for (let i = 1; i < history.length; i++) expect(history[i]).toBeGreaterThan(history[i - 1]!);
    }
  }, 60_000);

  it("a break-glass record published late by one replica never replaces a newer one from the other", async () => {
    const a = await replica("hub-a", db.url, { breakGlassSweepMs: 3_600_000 });
    const b = await replica("hub-b", db.url, { breakGlassSweepMs: 3_600_000 });
    await a.breakGlass.start("dev-1", { scope: { kind: "app", app: "shop" }, reason: "INC-1", author: "ada", expiresAt: new Date(Date.now() + 600_000) });
    // Hold hub-a's next publish after it took its generation and read the windows, before it writes.
    const kvA = a.breakGlass["kv"]!;
    let entered!: () => void;
    const inside = new Promise<void>((r) => (entered = r));
    const gate = new Promise<void>((r) => (releaseGate = r));
    const get = kvA.get.bind(kvA);
    vi.spyOn(kvA, "get").mockImplementationOnce(async (...args: Parameters<typeof get>) => {
      entered();
      await gate;
      return get(...args);
    });
    const late = a.breakGlass.publish("dev-1");
    await inside;
    // Meanwhile hub-b starts a window: its record has the higher generation and both windows.
    const second = await b.breakGlass.start("dev-1", { scope: { kind: "app", app: "web" }, reason: "INC-2", author: "grace", expiresAt: new Date(Date.now() + 600_000) });
    releaseGate();
    const lateRecord = (await late)!;
    expect(lateRecord.generation).toBeLessThan(second.controlGeneration!);
    const history = await controlHistory("dev-1");
    expect(history.at(-1)).toMatchObject({ generation: second.controlGeneration });
    expect(history.at(-1)!.windows.map((w) => w.reason)).toEqual(["INC-1", "INC-2"]);
    expect(history.map((r) => r.generation)).not.toContain(lateRecord.generation);
  }, 60_000);
});
