// The promotion fence with two hub replicas on one Postgres database, one NATS prefix and one Git
// server (over HTTP, as in production). The leader's promotion step is held inside its wave commit
// while the lease moves to the other replica: the deposed one pushes nothing and writes nothing
// more, the new leader carries the promotion on to the end, and the env repo has exactly one commit
// per wave and the promotion's events are not doubled. The clusters' agents are stood in for by a
// reporter that reads each cluster's signed pointer and reports Healthy on it (promotion.test.ts).
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import git from "isomorphic-git";
import http from "isomorphic-git/http/node";
import pg from "pg";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import { ErrorCode, PromotionEventType, type HeartbeatReport, type StatusReport } from "@flotilla/model";
import { createWorkRepo, pushWorkRepo, startGitHttpServer, type GitHttpServer } from "@flotilla/envrepo/testing";
import { createTestDatabase, createTestNats, waitFor, type TestDatabase, type TestNats } from "@flotilla/testkit";
import { encodeJson, generateSigningKey, reportSubject, wireNames } from "@flotilla/wire";
import { startHub, type Hub } from "../src/hub.js";
import { mintApiToken, Role } from "../src/api/index.js";
import { PromotionFencedError } from "../src/promotion-fence.js";
import { parseTrailers } from "../src/promotion/trailers.js";

const TOKEN = "ha-promotion-git-token";
const CLUSTERS = ["dev-1", "dev-2"];
const LEADER_POLL_MS = 200;
const FLEET = `apiVersion: flotilla.dev/v1alpha1
environments:
  - name: dev
    promotion:
      rollout:
        minHealthy: 0
        progressDeadline: 60s
        unknownAfter: 30s
        waves:
          - { name: first, clusters: [dev-1], failureBudget: 0 }
          - { name: rest, percent: 100, failureBudget: 0 }
clusters:
  - { name: dev-1, environment: dev }
  - { name: dev-2, environment: dev }
apps:
  - { name: shop, path: apps/shop }
`;
const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata: { name: shop, namespace: shop }
spec:
  template:
    spec:
      containers:
        - { name: shop, image: "ghcr.io/acme/shop:1.0" }
`;
const DIGEST = `sha256:${"7".repeat(64)}`;
const erin = mintApiToken({ subject: "erin", roles: [Role.Promoter, Role.Operator], environments: ["*"] });

let server: GitHttpServer;
let url: string;
let tmp: string;
let db: TestDatabase;
let nats: TestNats;
let nc: NatsConnection;
let pool: pg.Pool;
const signingKey = generateSigningKey();
const hubs: Hub[] = [];
let reporting = false;
let reporter: Promise<void> | undefined;
let releaseGate: () => void = () => undefined;

beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), "hub-ha-promotion-"));
  server = await startGitHttpServer({ token: TOKEN });
  url = server.createBareRepo("fleet");
  const work = join(tmp, "work");
  await createWorkRepo(work, { "flotilla.yaml": FLEET, "apps/shop/deployment.yaml": DEPLOYMENT });
  await pushWorkRepo(work, url, { token: TOKEN });
  db = await createTestDatabase("ha_promotion");
  nats = createTestNats("ha-promotion");
  nc = await connect({ servers: nats.url });
  pool = new pg.Pool({ connectionString: db.url, max: 2 });
}, 60_000);

afterEach(async () => {
  releaseGate();
  reporting = false;
  await reporter;
  for (const h of hubs.splice(0)) await h.stop();
  await pool?.end();
  await nc?.close();
  await nats?.cleanup();
  await db?.drop();
  await server?.close();
  await rm(tmp, { recursive: true, force: true });
}, 60_000);

async function replica(hubId: string): Promise<Hub> {
  const hub = await startHub({
    auth: { tokens: [erin.entry] },
    repo: { url, token: TOKEN, workDir: join(tmp, `${hubId}-reader`) },
    promotionWriter: { url, token: TOKEN, workDir: join(tmp, `${hubId}-writer`) },
    databaseUrl: db.url,
    natsUrl: nats.url,
    natsPrefix: nats.prefix,
    signingKey,
    port: 0,
    pollIntervalMs: 3_600_000,
    promotionTickMs: 100,
    hubId,
    leaderPollMs: LEADER_POLL_MS,
  });
  hubs.push(hub);
  return hub;
}

/** Every 100 ms each cluster reports Healthy on the pointer it holds, as its agent would. */
function startReporter(read: Hub): void {
  reporting = true;
  const js = jetstream(nc);
  const names = wireNames(nats.prefix);
  reporter = (async () => {
    while (reporting) {
      for (const cluster of CLUSTERS) {
        const held = await read.publisher.readPointer(cluster).catch(() => undefined);
        if (!held) continue;
        const base = { cluster, agent: `${cluster}/stand-in/1`, at: new Date().toISOString(), generation: held.generation };
        const status: StatusReport = { ...base, id: randomUUID(), kind: "status", revision: held.revision, bundleDigest: held.bundleDigest, observedRevision: held.revision, syncState: "Synced", health: "Healthy", apps: [] };
        const hb: HeartbeatReport = { ...base, id: randomUUID(), kind: "heartbeat", deadlineSeconds: 30 };
        await js.publish(reportSubject(names, cluster, "status"), encodeJson(status), { msgID: status.id }).catch(() => undefined);
        await js.publish(reportSubject(names, cluster, "heartbeat"), encodeJson(hb), { msgID: hb.id }).catch(() => undefined);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
}

async function api<T>(hub: Hub, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${hub.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${erin.token}`, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  return { status: res.status, body: (await res.json()) as T };
}

/** The branch's commits, newest first, with their trailers. */
async function history(): Promise<{ oid: string; trailers: ReturnType<typeof parseTrailers> }[]> {
  const dir = await mkdtemp(join(tmp, "log-"));
  await git.clone({ fs, http, dir, url, singleBranch: true, noCheckout: true, onAuth: () => ({ username: "x-access-token", password: TOKEN }) });
  const log = await git.log({ fs, dir, depth: 200 });
  return log.map((e) => ({ oid: e.oid, trailers: parseTrailers(e.commit.message) }));
}

describe("the promotion fence (two replicas, one database, one Git remote)", () => {
  it("a wave commit held on the leader while the lease moves: the deposed replica pushes nothing, the new leader finishes the promotion, one commit per wave, no event twice", async () => {
    const a = await replica("hub-a");
    const b = await replica("hub-b");
    expect(a.leadership.role()).toBe("leader");
    startReporter(b);

    // Hold hub-a inside its first wave commit (after the trailer lookup found nothing to reuse).
    let entered!: () => void;
    const inside = new Promise<void>((r) => (entered = r));
    const gate = new Promise<void>((r) => (releaseGate = r));
    const writerA = a.promotionWriter!;
    const commit = writerA.commit.bind(writerA);
    const deposedCommits: Promise<string>[] = [];
    vi.spyOn(writerA, "commit").mockImplementation(async (...args: Parameters<typeof commit>) => {
      entered();
      await gate;
      const pushing = commit(...args);
      deposedCommits.push(pushing);
      return pushing;
    });

    const release = await api<{ release: { id: string } }>(a, "POST", "/v1/releases", { app: "shop", sourceRevision: "ha1", images: [{ name: "ghcr.io/acme/shop", tag: "1.1", digest: DIGEST }] });
    expect(release.status).toBe(201);
    const started = await api<{ promotion: { id: string } }>(a, "POST", "/v1/promotions", { release: release.body.release.id, environment: "dev" });
    expect(started.status).toBe(201);
    const id = started.body.promotion.id;
    await inside;

    // The lease moves: hub-a's lease session ends (a crashed connection, pg_terminate_backend).
    const { rowCount } = await pool.query("select pg_terminate_backend(pid) from pg_stat_activity where application_name = 'flotilla-leader:hub-a' and datname = current_database()");
    expect(rowCount).toBe(1);
    await waitFor(() => a.leadership.role() === "follower" && b.leadership.role() === "leader", { what: "hub-b leading, hub-a following", timeoutMs: 15_000, intervalMs: 20 });

    // hub-a's step carries on: the fence at the push refuses it.
    releaseGate();
    await waitFor(() => deposedCommits.length === 1, { what: "hub-a's held commit going on", timeoutMs: 10_000, intervalMs: 10 });
    const refused = await deposedCommits[0]!.catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(PromotionFencedError);
    expect(refused).toMatchObject({ code: ErrorCode.NotLeader, by: "lease", promotion: id });

    // hub-b carries the promotion on to the end.
    const done = await waitFor(
      async () => {
        const p = (await api<{ promotion: { state: string; commits: { wave: number; revision: string }[] } }>(b, "GET", `/v1/promotions/${id}`)).body.promotion;
        return p.state === "Succeeded" ? p : undefined;
      },
      { what: `promotion ${id} succeeding on hub-b`, timeoutMs: 60_000, intervalMs: 100 },
    );

    // Exactly one commit per wave, and they are the ones the promotion recorded.
    const log = await history();
    const waves = log.filter((c) => c.trailers.Promotion === id);
    expect(waves.map((c) => c.trailers.Wave)).toEqual(["2/2", "1/2"]);
    expect(waves.map((c) => c.oid).reverse()).toEqual(done.commits.map((c) => c.revision));
    expect(log).toHaveLength(3); // the initial commit and the two waves
    // hub-a tried once (held), and nothing of it reached the remote.
    expect(writerA.commit).toHaveBeenCalledTimes(1);

    // No event twice: one start, one commit, one pointer issue, one success per wave; each state change once.
    const { rows } = await pool.query<{ type: string; data: { wave?: number; to?: string } }>("select type, data from promotion_events where promotion_id = $1 order by id", [id]);
    const count = (type: string, key: (d: { wave?: number; to?: string }) => unknown) => {
      const seen = new Map<unknown, number>();
      for (const r of rows.filter((r) => r.type === type)) seen.set(key(r.data), (seen.get(key(r.data)) ?? 0) + 1);
      return Object.fromEntries(seen);
    };
    expect(count(PromotionEventType.WaveStarted, (d) => d.wave)).toEqual({ 1: 1, 2: 1 });
    expect(count(PromotionEventType.WaveCommitted, (d) => d.wave)).toEqual({ 1: 1, 2: 1 });
    expect(count(PromotionEventType.PointersIssued, (d) => d.wave)).toEqual({ 1: 1, 2: 1 });
    expect(count(PromotionEventType.WaveSucceeded, (d) => d.wave)).toEqual({ 1: 1, 2: 1 });
    expect(count(PromotionEventType.StateChanged, (d) => d.to)).toEqual({ Running: 1, Verifying: 1, Succeeded: 1 });
    // The refused step counted no failed attempt.
    const { rows: promotionRows } = await pool.query<{ attempts: number; error: unknown }>("select attempts, error from promotions where id = $1", [id]);
    expect(promotionRows[0]).toEqual({ attempts: 0, error: null });
  }, 120_000);
});
