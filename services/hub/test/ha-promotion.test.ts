// The promotion fence with two hub replicas on one Postgres database, one NATS prefix and one Git
// server (over HTTP, as in production). The leader's promotion step is held inside its wave commit
// while the lease moves to the other replica: the deposed one pushes nothing and writes nothing
// more, the new leader carries the promotion on to the end, and the env repo has exactly one commit
// per wave and the promotion's events are not doubled. The clusters' agents are stood in for by a
// reporter that reads each cluster's signed pointer and reports Healthy on it (startStandInAgents).
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import pg from "pg";
import { ErrorCode, PromotionEventType } from "@flotilla/model";
import { createTestDatabase, createTestNats, waitFor } from "@flotilla/testkit";
import { startHub, type Hub } from "../src/hub.js";
import { mintApiToken, Role } from "../src/api/index.js";
import { PromotionFencedError } from "../src/promotion-fence.js";
import { callHub, startPromotionFixture, startStandInAgents, type PromotionFixture, type StandInAgents } from "../src/testing/index.js";

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
const DIGEST = `sha256:${"7".repeat(64)}`;
const erin = mintApiToken({ subject: "erin", roles: [Role.Promoter, Role.Operator], environments: ["*"] });

let fixture: PromotionFixture;
let pool: pg.Pool;
const hubs: Hub[] = [];
let agents: StandInAgents | undefined;
let releaseGate: () => void = () => undefined;

beforeEach(async () => {
  fixture = await startPromotionFixture({ db: await createTestDatabase("ha_promotion"), nats: createTestNats("ha-promotion"), fleet: FLEET });
  pool = new pg.Pool({ connectionString: fixture.db.url, max: 2 });
}, 60_000);

afterEach(async () => {
  releaseGate();
  await agents?.stop();
  agents = undefined;
  for (const h of hubs.splice(0)) await h.stop();
  await pool?.end();
  await fixture?.close();
}, 60_000);

async function replica(hubId: string): Promise<Hub> {
  const hub = await startHub(fixture.hubConfig([erin.entry], { pollIntervalMs: 3_600_000, hubId, leaderPollMs: LEADER_POLL_MS }));
  hubs.push(hub);
  return hub;
}

/** Every 100 ms each cluster reports Healthy on the pointer it holds (read on `read`), as its agent would. */
function startReporter(read: Hub): void {
  agents = startStandInAgents({ clusters: CLUSTERS, readPointer: (c) => read.publisher.readPointer(c), wire: () => read, intervalMs: 100 });
}

const api = <T>(hub: Hub, method: string, path: string, body?: unknown) => callHub<T>(hub.url, erin.token, method, path, body);

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
    const log = fixture.history();
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
