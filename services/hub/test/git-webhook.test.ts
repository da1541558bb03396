// Git push webhooks: GitHub and Gitea sign the body with HMAC-SHA256, GitLab sends the secret
// token. A good delivery makes a real hub fetch the new commit at once; a bad one refreshes nothing.
import { createHmac, randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorCode } from "@flotilla/model";
import { commitFiles, createWorkRepo, readFilesFrom } from "@flotilla/envrepo/testing";
import { openDatabase, migrateToLatest, type FleetDatabase } from "@flotilla/store";
import { createTestNats, waitFor, type TestNats } from "@flotilla/testkit";
import { generateSigningKey } from "@flotilla/wire";
import { startHub, type Hub } from "../src/hub.js";
import { buildApi, mintApiToken, Role } from "../src/api/index.js";

const EXAMPLE = fileURLToPath(new URL("../../../examples/env-repo", import.meta.url));
const SECRET = "webhook-secret-0123456789";
const sign = (body: string, secret = SECRET) => createHmac("sha256", secret).update(body).digest("hex");
const push = (after: string) => JSON.stringify({ ref: "refs/heads/main", before: "0".repeat(40), after, repository: { full_name: "acme/fleet" } });
const codeOf = (r: { json(): unknown }) => (r.json() as { error?: { code: string } }).error?.code;

describe("POST /v1/webhooks/git on a real hub", () => {
  let nats: TestNats;
  let dir: string;
  let hub: Hub;
  beforeAll(async () => {
    nats = createTestNats("webhook");
    dir = await mkdtemp(join(tmpdir(), "hub-webhook-"));
    await createWorkRepo(dir, await readFilesFrom(EXAMPLE));
    hub = await startHub({
      auth: { tokens: [mintApiToken({ subject: "vic", roles: [Role.Viewer] }).entry] },
      webhookSecrets: [SECRET],
      repo: { path: dir },
      natsUrl: nats.url,
      natsPrefix: nats.prefix,
      signingKey: generateSigningKey(),
      port: 0,
      // No polling during the test: only the webhook can make the hub see the new commit.
      pollIntervalMs: 3_600_000,
    });
  }, 60_000);
  afterAll(async () => {
    await hub?.stop();
    await nats?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  it("a signed GitHub push makes the hub fetch and render the new commit, without a bearer token", async () => {
    await waitFor(() => hub.resolver.lastGood(), { what: "the first resolve" });
    const next = await commitFiles(dir, { "apps/shop/README.md": "webhook test\n" }, "docs: readme");
    const body = push(next);
    const res = await fetch(`${hub.url}/v1/webhooks/git`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-github-event": "push", "x-github-delivery": randomUUID(), "x-hub-signature-256": `sha256=${sign(body)}` },
      body,
    });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ provider: "github", event: "push", ref: "refs/heads/main", after: next, refreshing: true });
    await waitFor(() => (hub.resolver.lastGood() === next ? true : undefined), { what: "the hub to resolve the pushed commit", timeoutMs: 30_000 });
  });
});

describe("webhook verification", () => {
  let fleet: FleetDatabase;
  let refreshes = 0;
  const app = () =>
    buildApi({
      db: fleet.db,
      auth: { tokens: [] },
      hub: { ready: () => true, refresh: async () => ({ revision: String(++refreshes), published: 0 }) },
      webhooks: { secrets: ["old-secret-abcdefghijkl", SECRET] },
    });
  beforeAll(async () => {
    fleet = await openDatabase({});
    await migrateToLatest(fleet.db);
  });
  afterAll(() => fleet?.close());

  it("accepts GitHub, Gitea and GitLab proofs, and refuses wrong or missing ones with nothing refreshed", async () => {
    const api = app();
    try {
      const post = (headers: Record<string, string>, body = push("a".repeat(40))) => api.inject({ method: "POST", url: "/v1/webhooks/git", headers: { "content-type": "application/json", ...headers }, payload: body });
      const body = push("a".repeat(40));
      const refused: [string, Record<string, string>][] = [
        ["GitHub, wrong secret", { "x-github-event": "push", "x-hub-signature-256": `sha256=${sign(body, "not-the-secret-at-all")}` }],
        ["GitHub, signature of another body", { "x-github-event": "push", "x-hub-signature-256": `sha256=${sign(body + " ")}` }],
        ["GitHub, no signature", { "x-github-event": "push" }],
        ["GitHub, garbage signature", { "x-github-event": "push", "x-hub-signature-256": "sha256=zz" }],
        ["Gitea, wrong signature", { "x-gitea-event": "push", "x-gitea-signature": sign(body, "nope-nope-nope-nope") }],
        ["GitLab, wrong token", { "x-gitlab-event": "Push Hook", "x-gitlab-token": "guess-guess-guess" }],
        ["GitLab, no token", { "x-gitlab-event": "Push Hook" }],
      ];
      for (const [what, headers] of refused) {
        const r = await post(headers, body);
        expect([r.statusCode, codeOf(r)], what).toEqual([401, ErrorCode.WebhookSignatureInvalid]);
        expect((r.json() as { error: { message: string } }).error.message, what).toMatch(/nothing was refreshed/);
      }
      expect(refreshes).toBe(0);

      const accepted: [string, Record<string, string>][] = [
        ["GitHub", { "x-github-event": "push", "x-github-delivery": "d-1", "x-hub-signature-256": `sha256=${sign(body)}` }],
        ["GitHub, the rotated-out secret", { "x-github-event": "push", "x-hub-signature-256": `sha256=${sign(body, "old-secret-abcdefghijkl")}` }],
        ["Gitea", { "x-gitea-event": "push", "x-gitea-delivery": "g-1", "x-gitea-signature": sign(body) }],
        ["GitLab", { "x-gitlab-event": "Push Hook", "x-gitlab-token": SECRET }],
      ];
      for (const [what, headers] of accepted) {
        const r = await post(headers, body);
        expect([r.statusCode, (r.json() as { refreshing: boolean }).refreshing], what).toEqual([202, true]);
      }
      await waitFor(() => (refreshes === 4 ? true : undefined), { what: "four refreshes" });
      // A redelivery (same delivery id) and a ping are answered without fetching.
      const again = await post({ "x-github-event": "push", "x-github-delivery": "d-1", "x-hub-signature-256": `sha256=${sign(body)}` }, body);
      expect([again.statusCode, (again.json() as { reason: string }).reason]).toEqual([200, "delivery d-1 was handled already"]);
      const ping = JSON.stringify({ zen: "Keep it logically awesome." });
      const pong = await post({ "x-github-event": "ping", "x-hub-signature-256": `sha256=${sign(ping)}` }, ping);
      expect([pong.statusCode, (pong.json() as { refreshing: boolean }).refreshing]).toEqual([200, false]);
      expect(refreshes).toBe(4);
    } finally {
      await api.close();
    }
  });

  it("refuses short secrets at start", () => {
    expect(() => buildApi({ db: fleet.db, auth: { tokens: [] }, hub: { ready: () => true, refresh: async () => ({ revision: "", published: 0 }) }, webhooks: { secrets: ["short"] } })).toThrow(/at least 16 characters/);
  });
});
