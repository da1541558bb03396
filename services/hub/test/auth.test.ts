// Who may call the fleet API. A real hub (PGlite, real NATS, a Git work repo) serves every route;
// the test walks its route table, so a route added later without the right role fails here.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorCode } from "@flotilla/model";
import { createWorkRepo, readFilesFrom } from "@flotilla/envrepo/testing";
import { createTestNats, waitFor, type TestNats } from "@flotilla/testkit";
import { generateSigningKey } from "@flotilla/wire";
import { openDatabase, migrateToLatest, type FleetDatabase } from "@flotilla/store";
import { startHub, type Hub } from "../src/hub.js";
import { apiTokenDigest, buildApi, INSECURE_NO_AUTH_WARNING, mintApiToken, parseApiTokensFile, Role, serializeApiTokensFile, type RouteEntry } from "../src/api/index.js";
import { openApiTokensFile } from "../src/api-tokens-file.js";

const EXAMPLE = fileURLToPath(new URL("../../../examples/env-repo", import.meta.url));

const people = {
  viewer: mintApiToken({ subject: "vic", roles: [Role.Viewer] }),
  operator: mintApiToken({ subject: "otto", roles: [Role.Operator] }),
  promoter: mintApiToken({ subject: "pam", roles: [Role.Promoter], environments: ["dev"] }),
  admin: mintApiToken({ subject: "root", roles: [Role.Admin] }),
  expired: mintApiToken({ subject: "old", roles: [Role.Admin], expiresAt: new Date(Date.now() - 1000) }),
};
type Person = keyof typeof people;
const tokenOf = (p: Person) => people[p].token;
/** Who holds exactly the role a route asks for. */
const holderOf: Record<Role, Person> = { viewer: "viewer", operator: "operator", promoter: "promoter", admin: "admin" };

let nats: TestNats;
let dir: string;
let hub: Hub;

beforeAll(async () => {
  nats = createTestNats("auth");
  dir = await mkdtemp(join(tmpdir(), "hub-auth-"));
  await createWorkRepo(dir, await readFilesFrom(EXAMPLE));
  hub = await startHub({
    // The walk below sends many bad tokens from one address; the lockout has its own test.
    auth: { tokens: Object.values(people).map((p) => p.entry), failureLimit: { limit: 10_000, windowMs: 60_000 } },
    repo: { path: dir },
    natsUrl: nats.url,
    natsPrefix: nats.prefix,
    signingKey: generateSigningKey(),
    port: 0,
    pollIntervalMs: 3_600_000,
    webhookSecrets: ["webhook-secret-0123456789"],
  });
}, 60_000);

afterAll(async () => {
  await hub?.stop();
  await nats?.cleanup();
  await rm(dir, { recursive: true, force: true });
});

const concrete = (url: string) => url.replace(":name", "dev-1").replace(":cluster", "dev-1").replace(":id", "prm-none");
const call = (route: Pick<RouteEntry, "method" | "url">, as?: Person, payload?: object) =>
  hub.api.inject({
    method: route.method as "GET",
    url: concrete(route.url),
    headers: as ? { authorization: `Bearer ${tokenOf(as)}` } : {},
    ...(route.method === "GET" ? {} : { payload: payload ?? {} }),
  });
const codeOf = (r: { json(): unknown }) => (r.json() as { error?: { code: string } }).error?.code;
// A streaming route never ends on inject; its access is checked without a token only.
const STREAMING = new Set(["/v1/promotion-events"]);

describe("the fleet API refuses callers without the right token", () => {
  it("knows its routes, and every route but the probes needs a token", () => {
    const routes = hub.api.routeTable;
    expect(routes.length).toBeGreaterThan(25);
    // Public: the probes, and the dashboard's static files (the page holds no data; it asks for a
    // token and calls the API with it). Nothing else.
    // The Git webhook proves itself with its HMAC signature instead (git-webhook.test.ts).
    expect(routes.filter((r) => r.public && !r.url.startsWith("/ui")).map((r) => `${r.method} ${r.url}`).sort()).toEqual(["GET /healthz", "GET /openapi.json", "GET /readyz", "POST /v1/webhooks/git"]);
    for (const r of routes.filter((x) => x.public && x.url.startsWith("/ui"))) expect(r.method, r.url).toBe("GET");
    // Everything that changes state asks for more than viewer, and exactly this much: a new
    // mutating route must be added here, with its role, on purpose.
    const promote = ["approve", "reject", "pause", "resume", "abort", "cancel", "retry", "rollback"].map((v) => `POST /v1/promotions/:id/${v} promoter`);
    expect(routes.filter((x) => x.method !== "GET" && !x.public).map((r) => `${r.method} ${r.url} ${r.role}`).sort()).toEqual(
      [
        "POST /v1/refresh operator",
        "POST /v1/clusters/:name/break-glass operator",
        "DELETE /v1/clusters/:name/break-glass/:id operator",
        "POST /v1/releases promoter",
        "POST /v1/promotions promoter",
        ...promote,
        "POST /v1/promotions/:id/clusters/:cluster/skip promoter",
      ].sort(),
    );
  });

  it("answers 401 without a token, with a wrong, malformed or expired one, on every non-public route", async () => {
    for (const route of hub.api.routeTable.filter((r) => !r.public)) {
      const what = `${route.method} ${route.url}`;
      const none = await call(route);
      expect([none.statusCode, codeOf(none)], what).toEqual([401, ErrorCode.Unauthorized]);
      if (STREAMING.has(route.url)) continue;
      const wrong = await hub.api.inject({ method: route.method as "GET", url: concrete(route.url), headers: { authorization: `Bearer flt_${"x".repeat(43)}` } });
      expect(wrong.statusCode, what).toBe(401);
    }
    const expired = await call({ method: "GET", url: "/v1/clusters" }, "expired");
    expect(expired.statusCode).toBe(401);
    expect((expired.json() as { error: { message: string } }).error.message).toMatch(/token of "old" expired/);
    const basic = await hub.api.inject({ url: "/v1/clusters", headers: { authorization: `Basic ${tokenOf("admin")}` } });
    expect(basic.statusCode).toBe(401);
    for (const open of ["/healthz", "/readyz", "/openapi.json"]) expect((await hub.api.inject({ url: open })).statusCode).toBe(200);
  });

  it("answers 403 to a role below the route's, and lets the route's own role through, on every route", async () => {
    const ranks: Role[] = [Role.Viewer, Role.Operator, Role.Promoter, Role.Admin];
    for (const route of hub.api.routeTable.filter((r) => !r.public && !STREAMING.has(r.url))) {
      const what = `${route.method} ${route.url}`;
      const allowed = await call(route, holderOf[route.role]);
      expect([401, 403], `${what} as ${route.role}: ${allowed.body}`).not.toContain(allowed.statusCode);
      if (route.role !== Role.Admin) {
        const boss = await call(route, "admin");
        expect([401, 403], `${what} as admin`).not.toContain(boss.statusCode);
      }
      // Every other role that is neither admin nor the route's own is refused.
      for (const other of ranks.filter((r) => r !== route.role && r !== Role.Admin && route.role !== Role.Viewer)) {
        const refused = await call(route, holderOf[other]);
        expect([refused.statusCode, codeOf(refused)], `${what} as ${other}`).toEqual([403, ErrorCode.Forbidden]);
      }
    }
  });

  it("limits a promoter to the environments of its grant", async () => {
    const release = await hub.api.inject({
      method: "POST",
      url: "/v1/releases",
      headers: { authorization: `Bearer ${tokenOf("promoter")}` },
      payload: { app: "shop", sourceRevision: "auth-1", images: [{ name: "ghcr.io/acme/shop", digest: `sha256:${"a".repeat(64)}` }] },
    });
    expect(release.statusCode, release.body).toBe(201);
    const id = (release.json() as { release: { id: string } }).release.id;
    const prod = await hub.api.inject({ method: "POST", url: "/v1/promotions", headers: { authorization: `Bearer ${tokenOf("promoter")}` }, payload: { release: id, environment: "prod" } });
    expect([prod.statusCode, codeOf(prod)]).toEqual([403, ErrorCode.Forbidden]);
    expect((prod.json() as { error: { message: string } }).error.message).toMatch(/"pam" may not do this: it needs the promoter role for environment "prod"/);
  });
});

describe("failed attempts", () => {
  let fleet: FleetDatabase;
  beforeAll(async () => {
    fleet = await openDatabase({});
    await migrateToLatest(fleet.db);
  });
  afterAll(() => fleet?.close());

  it("lock an address out after the limit, valid token included, until the window ends; each is logged", async () => {
    let now = Date.parse("2026-12-06T10:00:00Z");
    const logged: string[] = [];
    const app = buildApi({
      db: fleet.db,
      auth: { tokens: [people.admin.entry], failureLimit: { limit: 3, windowMs: 60_000 } },
      clock: () => new Date(now),
      logger: { level: "warn", stream: { write: (line: string) => void logged.push(line) } },
    });
    try {
      const get = (token: string) => app.inject({ url: "/v1/clusters", headers: { authorization: `Bearer ${token}` } });
      for (let i = 0; i < 3; i++) expect((await get(`guess-${i}-${"z".repeat(30)}`)).statusCode).toBe(401);
      const locked = await get(tokenOf("admin"));
      expect([locked.statusCode, codeOf(locked)]).toEqual([429, ErrorCode.RateLimited]);
      expect(locked.headers["retry-after"]).toBe("60");
      expect(logged.filter((l) => l.includes("API authentication failed"))).toHaveLength(3);
      expect(logged.join("\n")).not.toContain("guess-");
      now += 60_000;
      expect((await get(tokenOf("admin"))).statusCode).toBe(200);
    } finally {
      await app.close();
    }
  });

  it("--insecure-no-auth makes everyone admin, and says so in the log", async () => {
    const logged: string[] = [];
    const app = buildApi({ db: fleet.db, auth: { insecureNoAuth: true }, logger: { level: "warn", stream: { write: (line: string) => void logged.push(line) } } });
    try {
      expect((await app.inject({ url: "/v1/clusters" })).statusCode).toBe(200);
      expect(logged.join("")).toContain(INSECURE_NO_AUTH_WARNING);
    } finally {
      await app.close();
    }
  });
});

describe("the tokens file", () => {
  it("names the entry and field of every mistake", () => {
    const good = people.viewer.entry;
    const cases: [unknown, RegExp][] = [
      [{}, /tokens\.json: tokens must be an object with a "tokens" list/],
      [{ tokens: [{ ...good, roles: ["root"] }] }, /tokens\[0\]\.roles must be a list of viewer, operator, promoter, admin/],
      [{ tokens: [{ ...good, roles: [] }] }, /tokens\[0\]\.roles give at least one/],
      [{ tokens: [{ ...good, subject: "" }] }, /tokens\[0\]\.subject required/],
      [{ tokens: [{ ...good, sha256: "abc" }] }, /tokens\[0\]\.sha256 required: the hex SHA-256/],
      [{ tokens: [{ ...good, token: "plaintext" }] }, /tokens\[0\]\.token unknown field/],
      [{ tokens: [good, { ...good, subject: "twin" }] }, /tokens\[1\]\.sha256 is the same token as tokens\[0\]/],
    ];
    for (const [doc, message] of cases) expect(() => parseApiTokensFile(JSON.stringify(doc), "tokens.json"), JSON.stringify(doc)).toThrow(message);
    expect(() => parseApiTokensFile("tokens: []", "tokens.json")).toThrow(/tokens\.json is not JSON/);
    expect(parseApiTokensFile(serializeApiTokensFile([good]), "tokens.json")).toEqual([good]);
    // Only the digest is stored.
    expect(serializeApiTokensFile([good])).not.toContain(people.viewer.token);
    expect(good.sha256).toBe(apiTokenDigest(people.viewer.token));
  });

  it("is re-read when it changes; a bad rewrite keeps the last good tokens", async () => {
    const tmp = await mkdtemp(join(tmpdir(), "hub-tokens-"));
    const file = join(tmp, "api-tokens.json");
    const errors: string[] = [];
    try {
      await writeFile(file, serializeApiTokensFile([people.viewer.entry]));
      const source = openApiTokensFile(file, { info: () => undefined, error: (_o, m) => void errors.push(m) }, 20);
      try {
        const now = new Date();
        expect("principal" in source.registry.authenticate(tokenOf("viewer"), now)).toBe(true);
        expect("refused" in source.registry.authenticate(tokenOf("operator"), now)).toBe(true);
        // Rotate: the operator's token in, the viewer's out.
        await writeFile(file, serializeApiTokensFile([people.operator.entry]));
        await waitFor(() => ("principal" in source.registry.authenticate(tokenOf("operator"), new Date()) ? true : undefined), { what: "the rewritten tokens file to be read", timeoutMs: 10_000 });
        expect("refused" in source.registry.authenticate(tokenOf("viewer"), new Date())).toBe(true);
        // A broken file is refused and the operator keeps working.
        await writeFile(file, "{ not json");
        await waitFor(() => (errors.length > 0 ? true : undefined), { what: "the broken tokens file to be rejected", timeoutMs: 10_000 });
        expect(errors[0]).toMatch(/previous tokens keep serving/);
        expect("principal" in source.registry.authenticate(tokenOf("operator"), new Date())).toBe(true);
      } finally {
        source.close();
      }
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  });
});
