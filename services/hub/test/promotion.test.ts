// Promotion through a running hub: real Postgres, real NATS (pointers in KV, reports over
// JetStream), a real Git server over HTTP that the hub pushes wave commits to. The clusters'
// agents are stood in for by a reporter that reads each cluster's signed pointer from NATS and
// reports on it as an agent would (the agent itself is tested on a real kube-apiserver
// elsewhere); each cluster can be told to report Healthy, Degraded, or nothing.
import { createServer } from "node:http";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { ErrorCode } from "@flotilla/model";
import { openEnvRepoWriter, type EnvRepoWriter } from "@flotilla/envrepo";
import { SOLE_LEADER } from "@flotilla/store";
import { createTestDatabase, createTestNats, waitFor } from "@flotilla/testkit";
import { startHub, type Hub } from "../src/hub.js";
import { mintApiToken, Role } from "../src/api/index.js";
import { createPromotionController } from "../src/promotion.js";
import { startTelemetry } from "../src/telemetry-sdk.js";
import { callHub, SHOP_DEPLOYMENT, startPromotionFixture, startStandInAgents, type PromotionFixture, type StandInAgents, type StandInBehaviour } from "../src/testing/index.js";

const D1 = `sha256:${"1".repeat(64)}`;
const D2 = `sha256:${"2".repeat(64)}`;
const ROLLOUT = "minHealthy: 300ms, progressDeadline: 30s, unknownAfter: 10s";
const FLEET = `apiVersion: flotilla.dev/v1alpha1
environments:
  - name: dev
    promotion: { autoPromote: true, rollout: { ${ROLLOUT} } }
  - name: stage
    promotion: { from: [dev], autoPromote: true, soak: 1s, rollout: { ${ROLLOUT} } }
  - name: prod
    promotion:
      from: [stage]
      digestOnly: true
      approvals: { count: 1 }
      rollout:
        ${ROLLOUT.split(", ").join("\n        ")}
        waves:
          - { name: canary, clusters: [prod-1], failureBudget: 0 }
          - { name: half, percent: 50, failureBudget: 1 }
          - { name: all, percent: 100, failureBudget: 1 }
  - name: qa
    promotion:
      rollout: { minHealthy: 0, progressDeadline: 3s, unknownAfter: 2s, waves: [{ percent: 100, failureBudget: 1 }] }
clusters:
  - { name: dev-1, environment: dev }
  - { name: dev-2, environment: dev }
  - { name: stage-1, environment: stage }
  - { name: stage-2, environment: stage }
  - { name: stage-3, environment: stage }
  - { name: prod-1, environment: prod }
  - { name: prod-2, environment: prod }
  - { name: prod-3, environment: prod }
  - { name: prod-4, environment: prod }
  - { name: qa-1, environment: qa }
  - { name: qa-2, environment: qa }
  - { name: qa-3, environment: qa }
apps:
  - { name: shop, path: apps/shop }
`;
const CLUSTERS = ["dev-1", "dev-2", "stage-1", "stage-2", "stage-3", "prod-1", "prod-2", "prod-3", "prod-4", "qa-1", "qa-2", "qa-3"];

let fixture: PromotionFixture;
let hub: Hub;
/** How each cluster's stand-in agent reports (default healthy). */
const behaviour = new Map<string, StandInBehaviour>();
let agents: StandInAgents;

// The people at the API: erin requests promotions (and refreshes); carol, an SRE, approves stage
// and prod only; vic only looks.
const people = {
  erin: mintApiToken({ subject: "erin", roles: [Role.Promoter, Role.Operator], environments: ["*"] }),
  carol: mintApiToken({ subject: "carol", roles: [Role.Promoter], environments: ["stage", "prod"], groups: ["sre"] }),
  vic: mintApiToken({ subject: "vic", roles: [Role.Viewer] }),
};
type Person = keyof typeof people;
const bearer = (as: Person) => ({ authorization: `Bearer ${people[as].token}` });

const api = <T = Record<string, unknown>>(method: string, path: string, body?: unknown, as: Person | null = "erin") => callHub<T>(hub.url, as ? people[as].token : undefined, method, path, body);

interface PromotionView {
  id: string;
  state: string;
  supersededBy?: string;
  environment: string;
  releaseId: string;
  reason: string | null;
  gates: { gate: string; verdict: string; message: string; until?: string }[];
  commits: { wave: number; revision: string }[];
  waves: { name: string; clusters: { cluster: string; outcome: string; generation: number | null }[] }[];
}

const promotion = async (id: string) => (await api<{ promotion: PromotionView }>("GET", `/v1/promotions/${id}`)).body.promotion;
const promotionsOf = async (release: string) => (await api<{ promotions: PromotionView[] }>("GET", `/v1/releases/${release}`)).body.promotions;

async function waitState(id: string, states: string[], what: string, timeoutMs = 60_000): Promise<PromotionView> {
  return waitFor(
    async () => {
      const p = await promotion(id);
      return states.includes(p.state) ? p : undefined;
    },
    { what: `${what} (promotion ${id} in ${states.join("/")})`, timeoutMs, intervalMs: 100 },
  );
}

async function promotionIn(release: string, env: string): Promise<PromotionView> {
  return waitFor(async () => (await promotionsOf(release)).find((p) => p.environment === env), { what: `a promotion of ${release} into ${env}`, timeoutMs: 60_000 });
}

const generationOf = async (cluster: string) => (await hub.publisher.readPointer(cluster))!.generation;

async function imageOn(cluster: string): Promise<string> {
  const p = await hub.publisher.readPointer(cluster);
  const bundle = await hub.publisher.readBundle(p!);
  const dep = bundle!.apps[0]!.objects[0] as unknown as { spec: { template: { spec: { containers: { image: string }[] } } } };
  return dep.spec.template.spec.containers[0]!.image;
}

const hubConfig = () => fixture.hubConfig(Object.values(people).map((p) => p.entry));

beforeAll(async () => {
  fixture = await startPromotionFixture({ db: await createTestDatabase("promotion"), nats: createTestNats("promotion"), fleet: FLEET });
  hub = await startHub(hubConfig());
  // The hub restarts in one test: each round reads pointers from, and reports to, the current one.
  agents = startStandInAgents({ clusters: CLUSTERS, readPointer: (c) => hub.publisher.readPointer(c), wire: () => hub, behaviour: (c) => behaviour.get(c) ?? "healthy" });
}, 120_000);

afterAll(async () => {
  await agents?.stop();
  await hub?.stop();
  await fixture?.close();
});

describe("promotion dev → stage → prod", () => {
  let release1: string;
  let prod1: PromotionView;

  it("a release auto-promotes into dev, then stage after dev (soak pending, then passing); prod waits for an approval", async () => {
    const created = await api<{ release: { id: string }; promotions: { id: string; environment: string }[] }>("POST", "/v1/releases", { app: "shop", sourceRevision: "a1", images: [{ name: "ghcr.io/acme/shop", tag: "1.1", digest: D1 }] });
    expect(created.status).toBe(201);
    release1 = created.body.release.id;
    expect(release1).toMatch(/^rel-shop-[0-9a-f]{12}$/);
    expect(created.body.promotions.map((p) => p.environment)).toEqual(["dev"]);
    // The same release again (a CI retry) is the same release, with no new promotion.
    const again = await api<{ created: boolean }>("POST", "/v1/releases", { app: "shop", sourceRevision: "a1", images: [{ name: "ghcr.io/acme/shop", tag: "1.1", digest: D1 }] });
    expect(again).toMatchObject({ status: 200, body: { created: false } });

    const dev = await waitState(created.body.promotions[0]!.id, ["Succeeded"], "dev succeeds");
    expect(dev.waves.flatMap((w) => w.clusters.map((c) => c.outcome))).toEqual(["Succeeded", "Succeeded"]);
    expect(await imageOn("dev-1")).toBe(`ghcr.io/acme/shop@${D1}`);

    const stage = await promotionIn(release1, "stage");
    const soaking = await waitFor(async () => (await promotion(stage.id)).gates.find((g) => g.gate === "soak" && g.verdict === "pending"), { what: "stage's soak gate pending" }).catch(() => undefined);
    // The soak is 1 s; on a slow machine it may already have passed by the first look.
    if (soaking) expect(soaking.until).toBeDefined();
    await waitState(stage.id, ["Succeeded"], "stage succeeds");

    // prod does not auto-promote: promote by hand; the approval gate holds it.
    const prodStart = await api<{ promotion: PromotionView }>("POST", "/v1/promotions", { release: release1, environment: "prod" });
    expect(prodStart.status).toBe(201);
    prod1 = prodStart.body.promotion;
    const pending = await waitFor(async () => (await promotion(prod1.id)).gates.find((g) => g.gate === "approval"), { what: "approval gate" });
    expect(pending).toMatchObject({ verdict: "pending", message: "0 of 1 approval(s)" });
    expect((await promotion(prod1.id)).state).toBe("Pending");
  });

  it("the requester cannot approve; another person can, and prod rolls out wave by wave with trailer-tagged commits", async () => {
    const requester = (await api<{ promotion: { requestedBy: string } }>("GET", `/v1/promotions/${prod1.id}`)).body.promotion.requestedBy;
    expect(requester).toBe("erin");
    // Over HTTP, as the token's subject: erin may not approve her own promotion, vic may not
    // approve at all, and nobody without a token may.
    const self = await api<{ error: { code: string } }>("POST", `/v1/promotions/${prod1.id}/approve`, { comment: "mine" }, "erin");
    expect([self.status, self.body.error.code]).toEqual([403, ErrorCode.SelfApproval]);
    const viewer = await api<{ error: { code: string } }>("POST", `/v1/promotions/${prod1.id}/approve`, {}, "vic");
    expect([viewer.status, viewer.body.error.code]).toEqual([403, ErrorCode.Forbidden]);
    const anonymous = await api<{ error: { code: string } }>("POST", `/v1/promotions/${prod1.id}/approve`, {}, null);
    expect([anonymous.status, anonymous.body.error.code]).toEqual([401, ErrorCode.Unauthorized]);
    const genBefore = { p2: await generationOf("prod-2"), p3: await generationOf("prod-3") };

    const approved = await api("POST", `/v1/promotions/${prod1.id}/approve`, { comment: "looks good" }, "carol");
    expect(approved.status).toBe(200);
    // Wave 1 (canary) committed: prod-1 has a new pointer, later waves keep theirs.
    const w1 = await waitFor(async () => {
      const p = await promotion(prod1.id);
      return p.commits.length === 1 && p.waves[0]!.clusters[0]!.generation !== null ? p : undefined;
    }, { what: "wave 1 committed and issued", timeoutMs: 60_000 });
    expect(w1.waves[0]!.clusters[0]!.cluster).toBe("prod-1");
    expect(await generationOf("prod-3")).toBe(genBefore.p3);
    expect(await imageOn("prod-3")).toBe("ghcr.io/acme/shop:1.0");

    const done = await waitState(prod1.id, ["Succeeded"], "prod succeeds");
    expect(done.waves.map((w) => [w.name, w.clusters.map((c) => c.cluster)])).toEqual([
      ["canary", ["prod-1"]],
      ["half", ["prod-2"]],
      ["all", ["prod-3", "prod-4"]],
    ]);
    expect(await generationOf("prod-2")).toBe(genBefore.p2 + 1);
    for (const c of ["prod-1", "prod-2", "prod-3", "prod-4"]) expect(await imageOn(c)).toBe(`ghcr.io/acme/shop@${D1}`);

    const log = fixture.history();
    const waves = log.filter((c) => c.trailers.Promotion === prod1.id);
    expect(waves.map((c) => c.trailers.Wave)).toEqual(["3/3", "2/3", "1/3"]);
    expect(waves.every((c) => c.trailers.Release === release1 && c.trailers.ApprovedBy === "carol" && c.author === requester)).toBe(true);
    expect(waves.map((c) => c.oid).reverse()).toEqual(done.commits.map((c) => c.revision));
  });

  it("a tag-only release is refused for prod before any commit (IMAGE_NOT_PINNED)", async () => {
    const before = fixture.history().length;
    const r = await api<{ release: { id: string } }>("POST", "/v1/releases", { app: "shop", sourceRevision: "t1", images: [{ name: "ghcr.io/acme/shop", tag: "latest-ish" }] });
    expect(r.status).toBe(201);
    const refused = await api<{ error: { code: string; message: string } }>("POST", "/v1/promotions", { release: r.body.release.id, environment: "prod" });
    expect(refused).toMatchObject({ status: 422, body: { error: { code: ErrorCode.ImageNotPinned } } });
    expect(refused.body.error.message).toContain("ghcr.io/acme/shop:latest-ish");
    // The tag-only release still auto-promotes into dev (no digest rule there): stop it before it commits.
    const dev = await promotionIn(r.body.release.id, "dev");
    await api("POST", `/v1/promotions/${dev.id}/abort`, { reason: "test: tag-only" });
    const log = fixture.history();
    expect(log.filter((c) => c.trailers.Release === r.body.release.id && c.trailers.Promotion !== dev.id)).toEqual([]);
    expect(log.length).toBeLessThanOrEqual(before + 1);
  });

  it("a canary that goes Degraded halts the promotion after exactly one wave commit; rollback by revert restores the old release at higher generations", async () => {
    const r2 = (await api<{ release: { id: string } }>("POST", "/v1/releases", { app: "shop", sourceRevision: "a2", images: [{ name: "ghcr.io/acme/shop", digest: D2 }] })).body.release.id;
    const stage = await promotionIn(r2, "stage");
    await waitState(stage.id, ["Succeeded"], "release 2 in stage");
    const prod = (await api<{ promotion: PromotionView }>("POST", "/v1/promotions", { release: r2, environment: "prod" })).body.promotion;
    // One active promotion per app and environment: the same release twice is a conflict.
    expect((await api("POST", "/v1/promotions", { release: r2, environment: "prod" })).status).toBe(409);

    behaviour.set("prod-1", "degraded");
    const genP2 = await generationOf("prod-2");
    await hub.promotionOps.approve(prod.id, { subject: "carol", groups: [] });
    const halted = await waitState(prod.id, ["Halted"], "canary halts");
    expect(halted.reason).toMatch(/wave 1 \(canary\): 1 failed cluster\(s\) in this wave, budget 0/);
    expect(halted.commits).toHaveLength(1);
    expect(halted.waves[0]!.clusters[0]).toMatchObject({ cluster: "prod-1", outcome: "Failed" });
    expect(await generationOf("prod-2")).toBe(genP2);
    expect(await imageOn("prod-2")).toBe(`ghcr.io/acme/shop@${D1}`);
    expect(fixture.history().filter((c) => c.trailers.Promotion === prod.id)).toHaveLength(1);

    // GET /v1/explain says why: prod-2 is held by the halted promotion, prod-1 is Degraded.
    type Explained = { atRevision: boolean; findings: { reason: string; message: string; evidence: Record<string, unknown> }[] };
    const why = async (cluster: string) => (await api<Explained>("GET", `/v1/explain?cluster=${cluster}&app=shop`)).body;
    const p2 = await why("prod-2");
    expect(p2.atRevision).toBe(false);
    expect(p2.findings.find((f) => f.reason === "HeldByPromotion")?.message).toMatch(new RegExp(`promotion ${prod.id} of ${r2} has not reached prod-2: it is Halted`));
    expect((await why("prod-1")).findings.map((f) => f.reason)).toContain("Degraded");

    // Rolling back release 1's promotion now would undo locks release 2 changed after it: 409.
    const conflict = await api<{ error: { code: string; message: string } }>("POST", `/v1/promotions/${prod1.id}/rollback`, {});
    expect(conflict).toMatchObject({ status: 409, body: { error: { code: ErrorCode.PromotionConflict } } });
    expect(conflict.body.error.message).toContain(prod.id);

    const genP1 = await generationOf("prod-1");
    behaviour.set("prod-1", "healthy");
    const rb = await api<{ promotion: PromotionView }>("POST", `/v1/promotions/${prod.id}/rollback`, { reason: "canary degraded" });
    expect(rb.status).toBe(201);
    const rolledBack = await waitState(rb.body.promotion.id, ["Succeeded"], "rollback succeeds");
    expect(rolledBack.releaseId).toBe(release1);
    expect(await imageOn("prod-1")).toBe(`ghcr.io/acme/shop@${D1}`);
    expect(await generationOf("prod-1")).toBeGreaterThan(genP1);
    const revert = fixture.history().find((c) => c.trailers.Promotion === rolledBack.id)!;
    expect(revert.trailers.RollbackOf).toBe(prod.id);
    expect(revert.message).toMatch(/^Revert promotion/);
    expect((await promotion(prod.id)).state).toBe("Aborted");

    // The rolled-back release is held: it does not auto-promote into prod, and env status says so.
    const envs = await api<{ environments: { name: string; holds: { releaseId: string }[]; releases: Record<string, string | null> }[] }>("GET", "/v1/environments");
    const prodEnv = envs.body.environments.find((e) => e.name === "prod")!;
    expect(prodEnv.holds.map((h) => h.releaseId)).toEqual([r2]);
    expect(prodEnv.releases.shop).toBe(release1);
  });

  it("rejection ends a pending promotion with no commit; events stream over SSE", async () => {
    const r3 = (await api<{ release: { id: string } }>("POST", "/v1/releases", { app: "shop", sourceRevision: "a3", images: [{ name: "ghcr.io/acme/shop", digest: `sha256:${"3".repeat(64)}` }] })).body.release.id;
    await waitState((await promotionIn(r3, "stage")).id, ["Succeeded"], "release 3 in stage");
    const prod = (await api<{ promotion: PromotionView }>("POST", "/v1/promotions", { release: r3, environment: "prod" })).body.promotion;
    await hub.promotionOps.reject(prod.id, { subject: "dave", groups: [] }, "not this week");
    expect(await promotion(prod.id)).toMatchObject({ state: "Rejected", reason: "rejected by dave: not this week", commits: [] });
    expect(fixture.history().filter((c) => c.trailers.Promotion === prod.id)).toEqual([]);
    expect((await api("POST", `/v1/promotions/${prod.id}/approve`, {})).status).toBe(409);

    const res = await fetch(`${hub.url}/v1/promotion-events?promotion=${prod.id}`, { headers: bearer("vic") });
    expect(res.headers.get("content-type")).toContain("text/event-stream");
    const reader = res.body!.getReader();
    let text = "";
    while (!text.includes("event: rejected")) text += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    expect(text).toMatch(/event: created\ndata: .*"promotionId":"prm-/);
  });

  it("a hub that dies between pushing a wave commit and recording it finds the commit by its trailers: no duplicate commit, one new pointer", async () => {
    const r3 = (await promotionsOf((await api<{ releases: { id: string; sourceRevision: string }[] }>("GET", "/v1/releases?app=shop")).body.releases.find((r) => r.sourceRevision === "a3")!.id))[0]!.releaseId;
    await hub.promotion.stop();
    let crashes = 1;
    const real = openEnvRepoWriter({ url: fixture.git.url, token: fixture.git.token, workDir: join(fixture.dir, "crashing-writer") });
    const crashing: EnvRepoWriter = {
      ...real,
      async commit(changes, message, author) {
        const revision = await real.commit(changes, message, author);
        if (crashes-- > 0) throw new Error("hub killed right after the push");
        return revision;
      },
      findCommit: (m, d) => real.findCommit(m, d),
      revert: (r, o) => real.revert(r, o),
    };
    const controller = createPromotionController({ db: hub.database.db, repo: hub.repo, writer: crashing, resolve: () => hub.resolver.refresh(), leader: SOLE_LEADER, tickMs: 60_000 });
    const p = await hub.promotionOps.promote(r3, "prod", { subject: "erin", groups: [] });
    await hub.promotionOps.approve(p.id, { subject: "carol", groups: [] });
    const gen = await generationOf("prod-1");
    await controller.tick(); // Pending → Running
    expect((await promotion(p.id)).state).toBe("Running");
    await controller.tick(); // pushes wave 1, then "dies" before recording it
    expect((await promotion(p.id)).commits).toEqual([]);
    await controller.tick(); // finds the pushed commit by its trailers, records it, publishes
    const after = await promotion(p.id);
    expect(after.commits).toHaveLength(1);
    const commits = fixture.history().filter((c) => c.trailers.Promotion === p.id);
    expect(commits.map((c) => c.trailers.Wave)).toEqual(["1/3"]);
    expect(after.commits[0]!.revision).toBe(commits[0]!.oid);
    expect(await generationOf("prod-1")).toBe(gen + 1);
    await controller.stop();
    hub.promotion.start();
    await waitState(p.id, ["Succeeded"], "the promotion finishes on the hub's own controller");
  });

  it("a paused promotion stays paused across a hub restart; a freeze window blocks its next wave but not its rollback; a fleet-file change and a base change that render the same bundles issue no pointer", async () => {
    const r4 = (await api<{ release: { id: string } }>("POST", "/v1/releases", { app: "shop", sourceRevision: "a4", images: [{ name: "ghcr.io/acme/shop", digest: `sha256:${"4".repeat(64)}` }] })).body.release.id;
    await waitState((await promotionIn(r4, "stage")).id, ["Succeeded"], "release 4 in stage");
    const imageBefore = await imageOn("prod-1");
    const prod = (await api<{ promotion: PromotionView }>("POST", "/v1/promotions", { release: r4, environment: "prod" })).body.promotion;
    await hub.promotionOps.approve(prod.id, { subject: "carol", groups: [] });
    await waitFor(async () => (await promotion(prod.id)).commits.length === 1, { what: "wave 1 of release 4 committed" });
    expect((await api<{ promotion: PromotionView }>("POST", `/v1/promotions/${prod.id}/pause`, {})).body.promotion.state).toBe("Paused");

    await hub.stop();
    hub = await startHub(hubConfig());
    expect(await promotion(prod.id)).toMatchObject({ state: "Paused", commits: [{ wave: 0 }] });

    // A freeze window from an hour ago to an hour from now, committed to the fleet file.
    const generations = async () => Promise.all(["dev-1", "stage-1", "prod-1", "prod-2", "prod-3"].map(generationOf));
    const before = await generations();
    const start = new Date(Date.now() - 3_600_000).toISOString();
    const end = new Date(Date.now() + 3_600_000).toISOString();
    // A person's commit to the env repo (the branch has the hub's commits: write on top of them).
    const person = openEnvRepoWriter({ url: fixture.git.url, token: fixture.git.token, workDir: join(fixture.dir, "person"), author: { name: "Frank", email: "frank@example.test" } });
    await person.commit({ "flotilla.yaml": FLEET.replace("      digestOnly: true\n", `      digestOnly: true\n      freeze: [{ name: change-freeze, kind: deny, start: "${start}", end: "${end}" }]\n`) }, "Freeze prod");
    expect((await api<{ published: number }>("POST", "/v1/refresh")).body.published).toBe(0);
    expect(await generations()).toEqual(before);
    // A change to the app's base that renders byte-identical bundles downstream: no pointer either.
    const reformatted = `# owned by the shop team\n${SHOP_DEPLOYMENT.replace("metadata: { name: shop, namespace: shop }", "metadata:\n  name: shop\n  namespace: shop")}`;
    expect(reformatted).not.toBe(SHOP_DEPLOYMENT);
    await person.commit({ "apps/shop/deployment.yaml": reformatted }, "shop: reformat the base");
    expect((await api<{ published: number }>("POST", "/v1/refresh")).body.published).toBe(0);
    expect(await generations()).toEqual(before);

    await api("POST", `/v1/promotions/${prod.id}/resume`, {});
    const blocked = await waitFor(async () => (await promotion(prod.id)).gates.find((g) => g.gate === "freeze"), { what: "the freeze gate" });
    expect(blocked).toMatchObject({ verdict: "pending", message: 'wave 2 waits: freeze window "change-freeze"', until: new Date(end).toISOString() });
    expect((await promotion(prod.id)).commits).toHaveLength(1);

    const rb = (await api<{ promotion: PromotionView }>("POST", `/v1/promotions/${prod.id}/rollback`, { reason: "freeze" })).body.promotion;
    await waitState(rb.id, ["Succeeded"], "the rollback passes the freeze window");
    expect(await imageOn("prod-1")).toBe(imageBefore);
    expect(imageBefore).not.toContain("4444");
  });

  it("an agent that never acknowledges the new pointer times out (its Healthy reports on the old one never count), a silent one is Unknown until skipped; both within budget → SucceededWithExceptions", async () => {
    behaviour.set("qa-1", "silent");
    behaviour.set("qa-2", "stale");
    const r = (await api<{ release: { id: string } }>("POST", "/v1/releases", { app: "shop", sourceRevision: "qa", images: [{ name: "ghcr.io/acme/shop", digest: `sha256:${"9".repeat(64)}` }] })).body.release.id;
    const qa = (await api<{ promotion: PromotionView }>("POST", "/v1/promotions", { release: r, environment: "qa" })).body.promotion;
    const outcomes = async () => Object.fromEntries((await promotion(qa.id)).waves[0]!.clusters.map((c) => [c.cluster, c.outcome]));
    await waitFor(async () => {
      const o = await outcomes();
      return o["qa-1"] === "Unknown" && o["qa-2"] === "TimedOut" && o["qa-3"] === "Succeeded" ? o : undefined;
    }, { what: "qa-1 Unknown, qa-2 TimedOut, qa-3 Succeeded", timeoutMs: 60_000 });
    // qa-2 reported Synced + Healthy all along — on its old pointer.
    expect(agents.firstPointer("qa-2")!.generation).toBeLessThan(await generationOf("qa-2"));
    // The wave waits on the Unknown cluster: a silent agent is never a success.
    expect((await promotion(qa.id)).state).toBe("Running");
    const explained = (await api<{ atRevision: boolean; findings: { reason: string; message: string }[] }>("GET", "/v1/explain?cluster=qa-2&app=shop")).body;
    expect(explained.atRevision).toBe(false);
    expect(explained.findings.find((f) => f.reason === "NotApplied")?.message).toMatch(/has not reported on pointer generation \d+ yet \(last report: generation \d+, Synced\/Healthy\)/);
    const good = (await api<{ atRevision: boolean; findings: { reason: string }[] }>("GET", "/v1/explain?cluster=qa-3&app=shop")).body;
    expect(good.atRevision).toBe(true);
    expect(good.findings[0]!.reason).toBe("AtRevision");
    // Later commits (other clusters' waves) left qa-3's bundle as it was: at most that is said.
    expect(good.findings.slice(1).map((f) => f.reason).every((r) => r === "ContentUnchanged")).toBe(true);
    expect((await api("GET", "/v1/explain?cluster=qa-3&app=nope")).status).toBe(404);
    expect((await api("GET", "/v1/explain?cluster=qa-3")).status).toBe(400);
    const skipped = await api<{ promotion: PromotionView }>("POST", `/v1/promotions/${qa.id}/clusters/qa-1/skip`, { reason: "agent offline for maintenance" });
    expect(skipped.status).toBe(200);
    const done = await waitState(qa.id, ["SucceededWithExceptions"], "qa finishes with exceptions");
    expect(done.reason).toBe("1 failed and 1 skipped cluster(s) within budget");
    expect(done.waves[0]!.clusters.map((c) => c.outcome)).toEqual(["Skipped", "TimedOut", "Succeeded"]);
  });
  it("a queued promotion of an older release is Superseded by the newer release's (reason, supersededBy, an event); one that committed a wave never is", async () => {
    for (const c of ["qa-1", "qa-2", "qa-3"]) behaviour.set(c, "healthy");
    // Ticks by hand: nothing starts between the requests below.
    await hub.promotion.stop();
    const writer = openEnvRepoWriter({ url: fixture.git.url, token: fixture.git.token, workDir: join(fixture.dir, "supersede-writer") });
    const controller = createPromotionController({ db: hub.database.db, repo: hub.repo, writer, resolve: () => hub.resolver.refresh(), leader: SOLE_LEADER, tickMs: 60_000 });
    const release = async (rev: string, digit: string) =>
      (await api<{ release: { id: string; createdAt: string }; promotions: PromotionView[] }>("POST", "/v1/releases", { app: "shop", sourceRevision: rev, images: [{ name: "ghcr.io/acme/shop", digest: `sha256:${digit.repeat(64)}` }] })).body;
    const start = async (r: string, environment: string) => (await api<{ promotion: PromotionView }>("POST", "/v1/promotions", { release: r, environment })).body.promotion;
    const r5 = await release("a5", "5");
    const r6 = await release("a6", "6");
    expect(new Date(r6.release.createdAt).getTime()).toBeGreaterThan(new Date(r5.release.createdAt).getTime());
    const qa5 = await start(r5.release.id, "qa");
    const prod5 = await start(r5.release.id, "prod");
    const prod6 = await start(r6.release.id, "prod");
    await controller.tick(); // supersedes; qa5: Pending → Running
    await controller.tick(); // qa5: wave 1 committed and issued
    expect((await promotion(qa5.id)).commits).toHaveLength(1);
    const qa6 = await start(r6.release.id, "qa");
    await controller.tick();

    // Entry environments auto-promote every release: dev's promotion of release 5 gives way too.
    const dev5 = r5.promotions.find((p) => p.environment === "dev")!;
    const dev6 = r6.promotions.find((p) => p.environment === "dev")!;
    for (const [older, newer] of [[prod5, prod6], [dev5, dev6]] as const) {
      const p = await promotion(older.id);
      expect(p).toMatchObject({ state: "Superseded", supersededBy: newer.id, commits: [] });
      expect(p.reason).toBe(`superseded by ${newer.id}: release ${r6.release.id} is newer than ${r5.release.id}, and the queue of shop in ${older.environment} runs only the newest release`);
    }
    expect((await promotion(prod6.id)).state).toBe("Pending");
    // qa5 committed its wave: it finishes; qa6 queues behind it.
    const qa5now = await promotion(qa5.id);
    expect(["Running", "Verifying"]).toContain(qa5now.state);
    expect(qa5now.supersededBy).toBeUndefined();
    expect((await promotion(qa6.id)).gates).toEqual([{ gate: "hold", verdict: "pending", message: `queued behind ${qa5.id} (${qa5now.state})` }]);

    // An older release asked for while a newer one is queued gives way at once.
    const prod5again = await start(r5.release.id, "prod");
    await controller.tick();
    expect(await promotion(prod5again.id)).toMatchObject({ state: "Superseded", supersededBy: prod6.id });
    expect(fixture.history().filter((c) => [prod5.id, dev5.id, prod5again.id].includes(c.trailers.Promotion ?? ""))).toEqual([]);

    // The event stream says so, with the promotion that took over.
    const res = await fetch(`${hub.url}/v1/promotion-events?promotion=${prod5.id}`, { headers: bearer("vic") });
    const reader = res.body!.getReader();
    let text = "";
    while (!text.includes('"to":"Superseded"')) text += new TextDecoder().decode((await reader.read()).value);
    await reader.cancel();
    const changed = text.split("\n\n").find((e) => e.includes('"to":"Superseded"'))!;
    expect(changed).toContain("event: state-changed");
    expect(JSON.parse(changed.slice(changed.indexOf("data: ") + 6)).data).toMatchObject({ from: "Pending", to: "Superseded", supersededBy: prod6.id });

    await controller.stop();
    hub.promotion.start();
    await waitState(qa5.id, ["Succeeded"], "qa5 finishes");
    await waitState(qa6.id, ["Succeeded"], "qa6 runs after it");
  });
  it("promotion progress in metrics and traces: a span per wave start with its commit and pointers (the resolve inside), transitions, gate wait, wave duration, clusters by outcome", async () => {
    const spans = new InMemorySpanExporter();
    const telemetry = await startTelemetry({ serviceName: "flotilla-hub", prometheus: true, spanProcessors: [new SimpleSpanProcessor(spans)] });
    const server = createServer(telemetry.metricsHandler!);
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const sample = async (name: string, labels: Record<string, string> = {}): Promise<number | undefined> => {
      const text = await (await fetch(`http://127.0.0.1:${(server.address() as { port: number }).port}/metrics`)).text();
      for (const line of text.split("\n")) {
        const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
        if (!m || m[1] !== name) continue;
        const got = Object.fromEntries([...(m[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
        if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
      }
      return undefined;
    };
    await hub.promotion.stop();
    const controller = createPromotionController({ db: hub.database.db, repo: hub.repo, writer: openEnvRepoWriter({ url: fixture.git.url, token: fixture.git.token, workDir: join(fixture.dir, "telemetry-writer") }), resolve: () => hub.resolver.refresh(), leader: SOLE_LEADER, tickMs: 60_000 });
    try {
      const r = (await api<{ release: { id: string } }>("POST", "/v1/releases", { app: "shop", sourceRevision: "a7", images: [{ name: "ghcr.io/acme/shop", digest: `sha256:${"7".repeat(64)}` }] })).body.release.id;
      const qa = (await api<{ promotion: PromotionView }>("POST", "/v1/promotions", { release: r, environment: "qa" })).body.promotion;
      await controller.tick(); // Pending → Running
      await controller.tick(); // the wave: commit, resolve, pointers
      const commit = (await promotion(qa.id)).commits[0]!.revision;
      const wave = spans.getFinishedSpans().find((s) => s.name === "promotion wave" && s.attributes["flotilla.promotion"] === qa.id)!;
      expect(wave.attributes).toMatchObject({ "flotilla.release": r, "flotilla.environment": "qa", "flotilla.promotion.wave": 1, "flotilla.promotion.waves": 1, "flotilla.revision": commit });
      const children = spans.getFinishedSpans().filter((s) => s.parentSpanContext?.spanId === wave.spanContext().spanId).map((s) => s.name);
      expect(children).toEqual(["promotion commit", "promotion pointers"]);
      const pointers = spans.getFinishedSpans().find((s) => s.name === "promotion pointers" && s.parentSpanContext?.spanId === wave.spanContext().spanId)!;
      const resolve = spans.getFinishedSpans().find((s) => s.name === "resolve" && s.parentSpanContext?.spanId === pointers.spanContext().spanId);
      expect(resolve?.attributes["flotilla.revision"]).toBe(commit);
      // The wave tick runs inside the controller's "promotion step" span: one trace from step to resolve.
      const step = spans.getFinishedSpans().find((s) => s.name === "promotion step" && s.spanContext().spanId === wave.parentSpanContext?.spanId);
      expect(step?.attributes["flotilla.promotion"]).toBe(qa.id);

      await waitFor(async () => {
        await controller.tick();
        return (await promotion(qa.id)).state === "Verifying";
      }, { what: "qa's wave settled", timeoutMs: 60_000, intervalMs: 100 });
      expect(await sample("flotilla_hub_promotion_clusters", { environment: "qa", outcome: "Succeeded" })).toBe(3);
      expect(await sample("flotilla_hub_promotion_wave_duration_count", { environment: "qa", outcome: "settled" })).toBe(1);
      expect(await sample("flotilla_hub_promotion_gate_wait_count", { environment: "qa" })).toBe(1);
      await waitFor(async () => {
        await controller.tick();
        return (await promotion(qa.id)).state === "Succeeded";
      }, { what: "qa succeeds", timeoutMs: 60_000, intervalMs: 100 });
      expect(await sample("flotilla_hub_promotion_transitions_total", { environment: "qa", from: "Pending", to: "Running" })).toBe(1);
      expect(await sample("flotilla_hub_promotion_transitions_total", { environment: "qa", from: "Running", to: "Verifying" })).toBe(1);
      expect(await sample("flotilla_hub_promotion_transitions_total", { environment: "qa", from: "Verifying", to: "Succeeded" })).toBe(1);
      // Ended: its clusters leave the gauge.
      expect(await sample("flotilla_hub_promotion_clusters", { environment: "qa", outcome: "Succeeded" })).toBe(0);
    } finally {
      await controller.stop();
      await new Promise((r) => server.close(r));
      await telemetry.shutdown();
      hub.promotion.start();
    }
  });
});
