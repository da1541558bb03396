// `flotilla promote` against a real promoting hub (Git HTTP server, Postgres, NATS; agents stood in
// for by a reporter on NATS): releases, start, show/list/env as golden tables and as the API's
// body, approvals and roles, --wait to Succeeded (exit 0), Halted (exit 5) and --timeout (exit 6),
// rollback, Idempotency-Key, and the event stream reconnecting after a dropped connection.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "@flotilla/testkit";
import { parse as parseYaml } from "yaml";
import { startDropProxy } from "./drop-proxy.js";
import { flotilla } from "./fleet-hub.js";
import { startPromotionHub, type PromotionHub } from "./promotion-hub.js";
import type { PromotionDetail, PromotionSummary } from "../src/commands/promote-types.js";
import { waitForPromotion } from "../src/commands/promote-wait.js";
import { HubClient } from "../src/client/http.js";

let fleet: PromotionHub;
// Source revisions are commit-like hex: the hub reads lock files back as YAML 1.1, which takes a
// short string such as "e5" for something else and then fails the render of the whole revision.
const D1 = `sha256:${"1".repeat(64)}`;
const D2 = `sha256:${"2".repeat(64)}`;
const D3 = `sha256:${"3".repeat(64)}`;

/** A Pending promotion's updatedAt moves with each gate evaluation: compare the rest. */
const withoutUpdatedAt = (body: unknown): unknown => JSON.parse(JSON.stringify(body), (k, v: unknown) => (k === "updatedAt" ? undefined : v));

/** Times, promotion ids, releases, commits and bundles vary; same-width placeholders keep the columns. */
function normalize(text: string, p?: PromotionDetail): string {
  const ids = new Map<string, string>();
  let out = text;
  if (p) {
    const swap = (value: string | null | undefined, name: string) => {
      if (!value) return;
      out = out.replaceAll(value, name.padEnd(value.length, "-")).replaceAll(value.slice(0, 7), name.slice(0, 7).padEnd(7, "-"));
    };
    p.commits.forEach((c, i) => swap(c.revision, `COMMIT${i + 1}`));
    swap(p.baseRevision, "BASEREV");
    p.waves.flatMap((w) => w.clusters).forEach((c, i) => c.bundleDigest && (out = out.replaceAll(c.bundleDigest.slice(7, 19), `BUNDLE${String(i + 1).padStart(6, "0")}`)));
  }
  return out
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/g, (t) => (t.startsWith("2099-") ? t : "YYYY-MM-DDTHH:MM:SSZ"))
    .replace(/prm-\d{8}-[0-9a-f]{8}/g, (id) => {
      if (!ids.has(id)) ids.set(id, `prm-YYYYMMDD-${String(ids.size + 1).padStart(8, "0")}`);
      return ids.get(id)!;
    })
    .replace(/rel-shop-[0-9a-f]{12}/g, "rel-shop-RELEASE-0001");
}

beforeAll(async () => {
  fleet = await startPromotionHub("clipromote");
}, 180_000);

afterAll(async () => {
  await fleet?.stop();
});

const promotion = async (id: string) => (await fleet.call<{ promotion: PromotionDetail }>("GET", `/v1/promotions/${id}`, "viewer")).body.promotion;

describe("flotilla promote", () => {
  let release: string;
  let prod: string;

  it("release create records a release, once per app, commit and images", async () => {
    const args = ["promote", "release", "create", "--app", "shop", "--commit", "a1b2c3d4e5f6a7b8", "--image", `ghcr.io/acme/shop:1.1@${D1}`, "--note", "build 1"];
    const r = await flotilla(args, fleet.env("promoter"));
    expect(r.status, r.stderr).toBe(0);
    const m = /^release (rel-shop-[0-9a-f]{12}) recorded: ghcr\.io\/acme\/shop:1\.1@sha256:1{64}$/.exec(r.stdout.trim());
    expect(m, r.stdout).not.toBeNull();
    release = m![1]!;
    const again = await flotilla([...args, "-o", "json"], fleet.env("promoter"));
    expect(again.status, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ created: false, release: { id: release, app: "shop", sourceRevision: "a1b2c3d4e5f6a7b8", images: [{ name: "ghcr.io/acme/shop", tag: "1.1", digest: D1 }], createdBy: "pam" }, promotions: [] });
  });

  it("start --wait follows a promotion to Succeeded, a line per event, exit 0", async () => {
    const r = await flotilla(["promote", "start", "--release", release, "--env", "dev", "--wait", "--timeout", "90s"], fleet.env("promoter"));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^created prm-\\d{8}-[0-9a-f]{8} \\(shop ${release} → dev\\): Pending$`, "m"));
    const lines = r.stderr.trimEnd().split("\n").map((l) => l.replace(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ {2}/, ""));
    expect(lines).toContain(`created by pam: ${release} into dev`);
    expect(lines).toContain("state Pending → Running");
    expect(lines.some((l) => /^wave 1\/1 \(\S+\) started: dev-1$/.test(l)), r.stderr).toBe(true);
    expect(lines.some((l) => /^wave 1 pointers issued: dev-1 generation \d+$/.test(l)), r.stderr).toBe(true);
    expect(lines.some((l) => /^dev-1 \(wave 1\): \w+ → Succeeded/.test(l)), r.stderr).toBe(true);
    expect(lines).toContain("state Verifying → Succeeded");
    expect(lines[lines.length - 1]).toMatch(/^promotion prm-\S+ ended Succeeded$/);
  });

  it("start into prod waits for an approval; show, list and env print it as aligned tables", async () => {
    const r = await flotilla(["promote", "start", "--release", release, "--env", "prod", "-o", "json"], fleet.env("promoter"));
    expect(r.status, r.stderr).toBe(0);
    prod = (JSON.parse(r.stdout) as { promotion: PromotionDetail }).promotion.id;
    await waitFor(async () => (await promotion(prod)).gates.some((g) => g.gate === "approval"), { what: "prod's gates evaluated" });
    const show = await flotilla(["promote", "show", prod], fleet.env("viewer"));
    expect(show.status, show.stderr).toBe(0);
    expect(normalize(show.stdout)).toBe(
      [
        "Promotion:      prm-YYYYMMDD-00000001",
        "App:            shop",
        "Environment:    prod",
        `Release:        rel-shop-RELEASE-0001 (source a1b2c3d, ghcr.io/acme/shop:1.1@${D1})`,
        "Kind:           promote",
        "State:          Pending",
        "Requested:      pam at YYYY-MM-DDTHH:MM:SSZ",
        "Wave:           - (not planned yet)",
        "Budget:         -",
        "Rollout:        -",
        "Base revision:  -",
        "Previous:       -",
        "",
        "GATE         VERDICT  UNTIL  MESSAGE",
        "digest-only  pass     -      every image is pinned by digest",
        "upstream     pass     -      succeeded in dev",
        "approval     pending  -      0 of 1 approval(s) from sre",
        "freeze       pass     -      no freeze window blocks",
        "",
      ].join("\n"),
    );
    const showJson = await flotilla(["promote", "show", prod, "-o", "json"], fleet.env("viewer"));
    // A Pending promotion's updatedAt moves with each gate evaluation; the rest is the API's body.
    const api = (await fleet.call<{ promotion: PromotionDetail }>("GET", `/v1/promotions/${prod}`, "viewer")).body;
    expect(JSON.parse(showJson.stdout)).toEqual({ promotion: { ...api.promotion, updatedAt: expect.any(String) } });
    const list = await flotilla(["promote", "list"], fleet.env("viewer"));
    expect(normalize(list.stdout)).toBe(
      [
        "ID                     APP   ENVIRONMENT  RELEASE                KIND     STATE      WAVE  REQUESTED BY  CREATED               REASON",
        "prm-YYYYMMDD-00000001  shop  prod         rel-shop-RELEASE-0001  promote  Pending    -     pam           YYYY-MM-DDTHH:MM:SSZ  -",
        "prm-YYYYMMDD-00000002  shop  dev          rel-shop-RELEASE-0001  promote  Succeeded  1/1   pam           YYYY-MM-DDTHH:MM:SSZ  -",
        "",
      ].join("\n"),
    );
    const listJson = await flotilla(["promote", "list", "--app", "shop", "--env", "prod", "--state", "Pending,Running", "-o", "json"], fleet.env("viewer"));
    expect(withoutUpdatedAt(JSON.parse(listJson.stdout))).toEqual(withoutUpdatedAt((await fleet.call("GET", "/v1/promotions?app=shop&environment=prod&state=Pending,Running", "viewer")).body));
    const env = await flotilla(["promote", "env", "prod"], fleet.env("viewer"));
    expect(normalize(env.stdout)).toBe(
      [
        "Environment:   prod",
        "From:          dev",
        "Auto-promote:  no",
        "Soak:          0s",
        "Approvals:     1 from sre",
        "Digest only:   yes",
        "Waves:         canary(prod-1) → rest(100%)",
        "Clusters:      prod-1, prod-2",
        "Freeze:        open",
        "",
        "FREEZE WINDOW  KIND  WHEN                                         ROLLBACK",
        "far-future     deny  2099-12-24T00:00:00Z – 2099-12-27T00:00:00Z  passes",
        "",
        "APP   RELEASE",
        "shop  - (not promoted: the manifests' own images)",
        "",
        "No holds.",
        "",
        "ID                     APP   ENVIRONMENT  RELEASE                KIND     STATE    WAVE  REQUESTED BY  CREATED               REASON",
        "prm-YYYYMMDD-00000001  shop  prod         rel-shop-RELEASE-0001  promote  Pending  -     pam           YYYY-MM-DDTHH:MM:SSZ  -",
        "",
      ].join("\n"),
    );
    const envs = await flotilla(["promote", "env"], fleet.env("viewer"));
    expect(normalize(envs.stdout)).toBe(
      [
        "NAME  FROM  AUTO  SOAK  APPROVALS   FREEZE  CLUSTERS  RELEASES                    HOLDS  ACTIVE",
        "dev   -     no    0s    none        open    1         shop=rel-shop-RELEASE-0001  0      0",
        "prod  dev   no    0s    1 from sre  open    2         shop=-                      0      1",
        "qa    -     no    0s    none        open    1         shop=-                      0      0",
        "",
      ].join("\n"),
    );
    const envsJson = await flotilla(["promote", "env", "-o", "yaml"], fleet.env("viewer"));
    expect(withoutUpdatedAt(parseYaml(envsJson.stdout))).toEqual(withoutUpdatedAt((await fleet.call("GET", "/v1/environments", "viewer")).body));
  });

  it("approve: the requester and a viewer get exit 4 with the API's code; an SRE approves and --wait follows both waves", async () => {
    const self = await flotilla(["promote", "approve", prod, "--comment", "mine"], fleet.env("promoter"));
    expect(self.status).toBe(4);
    expect(self.stderr).toContain("flotilla promote approve: FLOTILLA_ERR_SELF_APPROVAL:");
    const viewer = await flotilla(["promote", "approve", prod], fleet.env("viewer"));
    expect(viewer.status).toBe(4);
    expect(viewer.stderr).toContain("flotilla promote approve: FLOTILLA_ERR_FORBIDDEN:");
    const r = await flotilla(["promote", "approve", prod, "--comment", "looks good", "--wait", "--timeout", "90s"], fleet.env("approver"));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(new RegExp(`^approved ${prod} \\(shop ${release} → prod\\): Pending$`, "m"));
    const lines = r.stderr.trimEnd().split("\n").map((l) => l.replace(/^\S+Z {2}/, ""));
    expect(lines).toContain("approved by carol: looks good");
    expect(lines).toContain("wave 1/2 (canary) started: prod-1");
    expect(lines).toContain("wave 2/2 (rest) started: prod-2");
    expect(lines).not.toContain(`created by pam: ${release} into prod`);
    expect(lines[lines.length - 1]).toBe(`promotion ${prod} ended Succeeded`);
  });

  let qa: string;
  it("--wait exits 5 when the promotion halts; show lists waves and per-cluster outcomes", async () => {
    fleet.behaviour.set("qa-1", "degraded");
    const r = await flotilla(["promote", "start", "--release", release, "--env", "qa", "--wait", "--timeout", "90s", "-o", "json"], fleet.env("promoter"));
    expect(r.status, r.stderr).toBe(5);
    qa = (JSON.parse(r.stdout) as { promotion: PromotionDetail }).promotion.id;
    expect(r.stderr).toMatch(/qa-1 \(wave 1\): \w+ → Failed/);
    expect(r.stderr).toContain("state Running → Halted: wave 1 (all): ");
    expect(r.stderr).toMatch(new RegExp(`promotion ${qa} ended Halted: wave 1 \\(all\\): .* — see flotilla promote show ${qa}\n$`));
    const show = await flotilla(["promote", "show", qa], fleet.env("viewer"));
    expect(show.status, show.stderr).toBe(0);
    const p = await promotion(qa);
    expect(normalize(show.stdout, p)).toBe(
      [
        "Promotion:      prm-YYYYMMDD-00000001",
        "App:            shop",
        "Environment:    qa",
        `Release:        rel-shop-RELEASE-0001 (source a1b2c3d, ghcr.io/acme/shop:1.1@${D1})`,
        "Kind:           promote",
        "State:          Halted: wave 1 (all): 1 failed cluster(s) in this wave, budget 0; no further wave starts — resume, roll back or abort",
        "Requested:      pam at YYYY-MM-DDTHH:MM:SSZ",
        "Wave:           1 of 1",
        "Budget:         1 failed of 0 allowed (0 remaining)",
        "Rollout:        progressDeadline 30s, minHealthy 300ms, unknownAfter 10s",
        "Base revision:  BASEREV",
        "Previous:       -",
        "",
        "No gates waiting.",
        "",
        "WAVE  NAME  STATE    FAILED  BUDGET  SOAK  PAUSE  COMMIT",
        "1     all   Running  1       0       0s    0s     COMMIT1",
        "",
        "WAVE  CLUSTER  OUTCOME  GEN  BUNDLE        ISSUED                MESSAGE",
        `1     qa-1     Failed   ${p.waves[0]!.clusters[0]!.generation}    BUNDLE000001  YYYY-MM-DDTHH:MM:SSZ  Degraded on generation ${p.waves[0]!.clusters[0]!.generation}`,
        "",
        "WAVE  COMMIT                                    AT",
        `1     ${"COMMIT1".padEnd(40, "-")}  YYYY-MM-DDTHH:MM:SSZ`,
        "",
      ].join("\n"),
    );
  });

  it("rollback --wait follows the rollback promotion; the environment then holds the release", async () => {
    fleet.behaviour.set("qa-1", "healthy");
    const r = await flotilla(["promote", "rollback", qa, "--reason", "qa-1 degraded", "--wait", "--timeout", "90s"], fleet.env("promoter"));
    expect(r.status, r.stderr).toBe(0);
    const m = /^rolling back with (prm-\S+) \(shop (\S+) → qa\): Pending$/m.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    expect(r.stderr).toContain(`promotion ${m![1]} ended Succeeded`);
    expect((await promotion(qa)).state).toBe("Aborted");
    const env = await flotilla(["promote", "env", "qa"], fleet.env("viewer"));
    expect(env.status, env.stderr).toBe(0);
    expect(normalize(env.stdout)).toBe(
      [
        "Environment:   qa",
        "From:          - (entry environment)",
        "Auto-promote:  no",
        "Soak:          0s",
        "Approvals:     none",
        "Digest only:   no",
        "Waves:         all(100%)",
        "Clusters:      qa-1",
        "Freeze:        open",
        "",
        "APP   RELEASE",
        "shop  - (not promoted: the manifests' own images)",
        "",
        "HELD APP  RELEASE                BY   AT                    REASON",
        "shop      rel-shop-RELEASE-0001  pam  YYYY-MM-DDTHH:MM:SSZ  rolled back by pam (prm-YYYYMMDD-00000001): qa-1 degraded",
        "",
        "No open promotions.",
        "",
      ].join("\n"),
    );
  });

  it("--timeout ends the wait with exit 6 while the promotion goes on; cancel, then a second cancel is exit 1", async () => {
    const created = await flotilla(["promote", "release", "create", "--app", "shop", "--commit", "f2".repeat(20), "--image", `ghcr.io/acme/shop@${D2}`, "-o", "json"], fleet.env("promoter"));
    expect(created.status, created.stderr).toBe(0);
    const r2 = (JSON.parse(created.stdout) as { release: { id: string } }).release.id;
    const r = await flotilla(["promote", "start", "--release", r2, "--env", "prod", "--wait", "--timeout", "1s", "-o", "json"], fleet.env("promoter"));
    expect(r.status, r.stderr).toBe(6);
    const id = (JSON.parse(r.stdout) as { promotion: PromotionDetail }).promotion.id;
    // The hub may store the same gates again on every tick: the same verdicts print once.
    expect(r.stderr.split("\n").filter((l) => l.includes("gate upstream pending: the release has not succeeded in dev yet"))).toHaveLength(1);
    expect(r.stderr).toMatch(new RegExp(`timed out after \\ds: promotion ${id} is still Pending \\(the wait ended, the promotion goes on\\)`));
    const cancel = await flotilla(["promote", "cancel", id], fleet.env("promoter"));
    expect(cancel.status, cancel.stderr).toBe(0);
    expect(cancel.stdout).toMatch(new RegExp(`^cancelled ${id} .*: Cancelled`));
    const again = await flotilla(["promote", "cancel", id], fleet.env("promoter"));
    expect(again.status).toBe(1);
    expect(again.stderr).toContain("flotilla promote cancel: FLOTILLA_ERR_PROMOTION_STATE:");
  });

  it("a Pending promotion gives way to one of a newer release: --wait on it exits 5 saying Superseded, show names the newer one", async () => {
    const release = async (commit: string, digest: string) => (await fleet.call<{ release: { id: string } }>("POST", "/v1/releases", "promoter", { app: "shop", sourceRevision: commit, images: [{ name: "ghcr.io/acme/shop", digest }] })).body.release.id;
    const older = await release("f6".repeat(20), D1);
    const newer = await release("f7".repeat(20), D3);
    const waiting = flotilla(["promote", "start", "--release", older, "--env", "prod", "--wait", "--timeout", "90s", "-o", "json"], fleet.env("promoter"));
    const olderId = await waitFor(async () => (await fleet.call<{ promotions: PromotionSummary[] }>("GET", "/v1/promotions?environment=prod", "viewer")).body.promotions.find((p) => p.releaseId === older)?.id, { what: "the older release's promotion" });
    const started = await flotilla(["promote", "start", "--release", newer, "--env", "prod", "-o", "json"], fleet.env("promoter"));
    expect(started.status, started.stderr).toBe(0);
    const newerId = (JSON.parse(started.stdout) as { promotion: PromotionDetail }).promotion.id;
    const r = await waiting;
    expect(r.status, r.stderr).toBe(5);
    expect(r.stderr).toContain(`state Pending → Superseded: superseded by ${newerId}: release ${newer} is newer than ${older}`);
    expect(JSON.parse(r.stdout)).toMatchObject({ promotion: { id: olderId } });
    const show = await flotilla(["promote", "show", olderId], fleet.env("viewer"));
    expect(show.status, show.stderr).toBe(0);
    expect(show.stdout).toMatch(new RegExp(`^Superseded by: +${newerId}$`, "m"));
    expect((await promotion(olderId)).supersededBy).toBe(newerId);
    expect((await flotilla(["promote", "cancel", newerId], fleet.env("promoter"))).status).toBe(0);
  });

  it("sends an Idempotency-Key: the same key answers once, another body with it is refused", async () => {
    const args = ["promote", "release", "create", "--app", "shop", "--commit", "f3".repeat(20), "--image", `ghcr.io/acme/shop@${D2}`, "--idempotency-key", "build-4711"];
    const first = await flotilla(args, fleet.env("promoter"));
    expect(first.status, first.stderr).toBe(0);
    expect(first.stderr).toBe("");
    const replay = await flotilla(args, fleet.env("promoter"));
    expect(replay.status, replay.stderr).toBe(0);
    expect(replay.stdout).toBe(first.stdout);
    expect(replay.stderr).toContain('the hub already answered Idempotency-Key "build-4711"');
    const other = await flotilla([...args, "--note", "other"], fleet.env("promoter"));
    expect(other.status).toBe(1);
    expect(other.stderr).toContain("FLOTILLA_ERR_IDEMPOTENCY_KEY_REUSED");
  });

  it("skip takes a failed cluster out, and resume --wait then ends SucceededWithExceptions (exit 0)", async () => {
    fleet.behaviour.set("qa-1", "degraded");
    const created = await fleet.call<{ release: { id: string } }>("POST", "/v1/releases", "promoter", { app: "shop", sourceRevision: "f5".repeat(20), images: [{ name: "ghcr.io/acme/shop", digest: D2 }] });
    const halted = await flotilla(["promote", "start", "--release", created.body.release.id, "--env", "qa", "--wait", "--timeout", "90s", "-o", "json"], fleet.env("promoter"));
    expect(halted.status, halted.stderr).toBe(5);
    const id = (JSON.parse(halted.stdout) as { promotion: PromotionDetail }).promotion.id;
    const pause = await flotilla(["promote", "pause", id], fleet.env("promoter"));
    expect(pause.status).toBe(1);
    expect(pause.stderr).toContain("FLOTILLA_ERR_PROMOTION_STATE");
    const skip = await flotilla(["promote", "skip", id, "--cluster", "qa-1", "--reason", "known bad node"], fleet.env("promoter"));
    expect(skip.status, skip.stderr).toBe(0);
    expect(skip.stdout).toMatch(new RegExp(`^skipped qa-1 in ${id} `));
    const resumed = await flotilla(["promote", "resume", id, "--wait", "--timeout", "90s"], fleet.env("promoter"));
    expect(resumed.status, resumed.stderr).toBe(0);
    expect(resumed.stderr).toContain("state Halted → Running by pam");
    expect(resumed.stderr).not.toContain("ended Halted");
    expect(resumed.stderr).toMatch(new RegExp(`promotion ${id} ended SucceededWithExceptions: 0 failed and 1 skipped cluster\\(s\\) within budget\n$`));
    fleet.behaviour.set("qa-1", "healthy");
  });

  it("--wait on a promotion that ended before the wait began still prints its events since the action, then the verdict", async () => {
    const created = await fleet.call<{ release: { id: string } }>("POST", "/v1/releases", "promoter", { app: "shop", sourceRevision: "f8".repeat(20), images: [{ name: "ghcr.io/acme/shop", digest: D1 }] });
    const started = await fleet.call<{ promotion: PromotionDetail }>("POST", "/v1/promotions", "promoter", { release: created.body.release.id, environment: "dev" });
    const id = started.body.promotion.id;
    await waitFor(async () => ["Succeeded", "SucceededWithExceptions"].includes((await promotion(id)).state) || undefined, { what: `promotion ${id} to succeed` });
    const env = fleet.env("promoter");
    const lines: string[] = [];
    const code = await waitForPromotion(new HubClient({ hub: env.FLOTILLA_HUB_URL!, token: env.FLOTILLA_TOKEN! }), id, { since: started.body.promotion.createdAt, timeoutMs: 30_000, log: (l) => lines.push(l) });
    expect(code, lines.join("\n")).toBe(0);
    expect(lines.some((l) => l.includes("→ Succeeded")), lines.join("\n")).toBe(true);
    expect(lines.at(-1)).toBe(`promotion ${id} ended Succeeded`);
  });

  it("--wait that first read a resumed promotion still Running prints every event after the resume, not stopping at the replayed Halted", async () => {
    fleet.behaviour.set("qa-1", "degraded");
    const created = await fleet.call<{ release: { id: string } }>("POST", "/v1/releases", "promoter", { app: "shop", sourceRevision: "f9".repeat(20), images: [{ name: "ghcr.io/acme/shop", digest: D3 }] });
    const started = await fleet.call<{ promotion: PromotionDetail }>("POST", "/v1/promotions", "promoter", { release: created.body.release.id, environment: "qa" });
    const id = started.body.promotion.id;
    await waitFor(async () => ((await promotion(id)).state === "Halted" ? true : undefined), { what: `promotion ${id} to halt` });
    expect((await fleet.call("POST", `/v1/promotions/${id}/clusters/qa-1/skip`, "promoter", { reason: "known bad node" })).status).toBe(200);
    const resumed = await fleet.call<{ promotion: PromotionDetail }>("POST", `/v1/promotions/${id}/resume`, "promoter", {});
    expect(resumed.status).toBe(200);
    await waitFor(async () => ((await promotion(id)).state === "SucceededWithExceptions" ? true : undefined), { what: `promotion ${id} to end` });
    fleet.behaviour.set("qa-1", "healthy");
    // The race, made certain: the wait's first read saw the promotion Running (read just after the
    // resume); by the time the stream opens it has ended, and the replay starts with the old Halted.
    const env = fleet.env("promoter");
    class ReadJustAfterResume extends HubClient {
      private first = true;
      override async get<T>(path: string, query?: Parameters<HubClient["get"]>[1]): Promise<T> {
        const body = await super.get<T>(path, query);
        if (!this.first) return body;
        this.first = false;
        return { ...body, promotion: { ...(body as { promotion: PromotionDetail }).promotion, state: "Running" } } as T;
      }
    }
    const lines: string[] = [];
    const code = await waitForPromotion(new ReadJustAfterResume({ hub: env.FLOTILLA_HUB_URL!, token: env.FLOTILLA_TOKEN! }), id, { since: resumed.body.promotion.updatedAt, timeoutMs: 30_000, log: (l) => lines.push(l) });
    expect(code, lines.join("\n")).toBe(0);
    expect(lines.some((l) => l.includes("state Halted → Running by pam")), lines.join("\n")).toBe(true);
    expect(lines.some((l) => l.includes("→ Halted")), lines.join("\n")).toBe(false);
    expect(lines.at(-1)).toMatch(new RegExp(`^promotion ${id} ended SucceededWithExceptions`));
  });

  it("--wait survives a dropped event stream: it reconnects with Last-Event-ID and prints each event once", async () => {
    const proxy = await startDropProxy(fleet.hub.url);
    try {
      const created = await fleet.call<{ release: { id: string } }>("POST", "/v1/releases", "promoter", { app: "shop", sourceRevision: "f4".repeat(20), images: [{ name: "ghcr.io/acme/shop", digest: D3 }] });
      const r = await flotilla(["promote", "start", "--release", created.body.release.id, "--env", "dev", "--wait", "--timeout", "90s"], fleet.env("promoter", { FLOTILLA_HUB_URL: proxy.url }));
      expect(r.status, r.stderr).toBe(0);
      expect(proxy.drops).toBe(1);
      expect(r.stderr).toMatch(/\(event stream lost: .*; reconnecting after event \d+\)/);
      const lines = r.stderr.split("\n").filter((l) => /^\S+Z {2}/.test(l));
      expect(new Set(lines).size).toBe(lines.length);
      expect(lines.filter((l) => l.includes("created by pam"))).toHaveLength(1);
      expect(r.stderr).toMatch(/ended Succeeded\n$/);
    } finally {
      await proxy.close();
    }
  });

  it("exits 2 naming the flag for bad input and 3 for what does not exist", async () => {
    const cases: [string[], string][] = [
      [["start", "--release", release], "--env is required"],
      [["start", "--release", release, "--env", "dev", "--timeout", "5s"], "--timeout only bounds --wait"],
      [["start", "--release", release, "--env", "dev", "--wait", "--timeout", "5"], '--timeout "5" is not a duration with a unit'],
      [["release", "create", "--app", "shop", "--commit", "x", "--image", "ghcr.io/acme/shop"], "has neither a tag nor a digest"],
      [["release", "create", "--app", "shop", "--commit", "x", "--image", "ghcr.io/acme/shop@sha256:abc"], 'the digest "sha256:abc" is not sha256:<64 lowercase hex>'],
      [["release", "create", "--app", "shop", "--commit", "x"], "--image is required"],
      [["skip", prod, "--cluster", "prod-1"], "--reason is required"],
      [["release"], '"release" needs one of: create, list, show'],
      [["list", "--state", "Done"], "FLOTILLA_ERR_BAD_REQUEST"],
    ];
    for (const [args, message] of cases) {
      const r = await flotilla(["promote", ...args], fleet.env("promoter"));
      expect(r.status, `${args.join(" ")}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain(message);
    }
    const show = await flotilla(["promote", "show", "prm-19700101-00000000"], fleet.env("viewer"));
    expect(show.status).toBe(3);
    const env = await flotilla(["promote", "env", "staging"], fleet.env("viewer"));
    expect(env.status).toBe(3);
    expect(env.stderr).toContain('environment "staging" is not in the fleet file (environments: dev, prod, qa)');
  });
});
