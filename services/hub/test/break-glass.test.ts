// Break-glass in the hub: the API validates and answers, every change is audited and published
// as a hub-signed control record in KV; the sweep expires windows. PG 15 and PGlite, real NATS.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { FastifyInstance, InjectOptions } from "fastify";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { Kvm } from "@nats-io/kv";
import type { BreakGlassWindow, SignedControlRecord } from "@flotilla/model";
import { createTestDatabase, createTestNats, type TestNats } from "@flotilla/testkit";
import { migrateToLatest, openDatabase, upsertClusters, type FleetDatabase } from "@flotilla/store";
import { controlKey, decodeJson, generateSigningKey, verifyControl, wireNames, type WireNames } from "@flotilla/wire";
import { buildApi, mintApiToken, Role } from "../src/api/index.js";
import { BreakGlassControl, HUB_ACTOR } from "../src/break-glass.js";

const engines = [
  {
    name: "postgres",
    async open() {
      const testDb = await createTestDatabase("break-glass-api");
      return { fleet: await openDatabase({ url: testDb.url }), drop: testDb.drop };
    },
  },
  { name: "pglite", open: async () => ({ fleet: await openDatabase({}), drop: async () => {} }) },
];

const key = generateSigningKey();
const T0 = Date.parse("2026-11-26T10:00:00.000Z");
// Who calls: two operators and a viewer. The audit trail must name the token's subject.
const grants = {
  ada: mintApiToken({ subject: "ada", roles: [Role.Operator] }),
  grace: mintApiToken({ subject: "grace", roles: [Role.Operator] }),
  vic: mintApiToken({ subject: "vic", roles: [Role.Viewer] }),
};
type Caller = keyof typeof grants;
const auth = { tokens: Object.values(grants).map((g) => g.entry) };
const deployment = { group: "apps", kind: "Deployment", namespace: "shop", name: "inventory-api" };

describe.each(engines)("break-glass API on $name", (engine) => {
  let fleet: FleetDatabase;
  let drop: () => Promise<void>;
  let nats: TestNats;
  let nc: NatsConnection;
  let names: WireNames;
  let control: BreakGlassControl;
  let app: FastifyInstance;
  let now: number;

  const readRecord = async (cluster: string): Promise<SignedControlRecord | undefined> => {
    const kv = await new Kvm(nc).open(names.desiredBucket);
    const e = await kv.get(controlKey(cluster));
    if (!e || e.operation !== "PUT") return undefined;
    return decodeJson(e.value) as SignedControlRecord;
  };
  const inject = ({ as = "ada", headers = {}, ...rest }: InjectOptions & { as?: Caller | null }) =>
    app.inject({ ...rest, headers: { ...headers, ...(as ? { authorization: `Bearer ${grants[as].token}` } : {}) } });
  const post = (cluster: string, body: unknown, headers: Record<string, string> = {}, as: Caller | null = "ada") =>
    inject({ method: "POST", url: `/v1/clusters/${cluster}/break-glass`, payload: body as object, headers, as });
  const errorOf = (r: { json(): unknown }) => (r.json() as { error: { code: string; message: string; location?: { field?: string } } }).error;

  beforeEach(async () => {
    ({ fleet, drop } = await engine.open());
    await migrateToLatest(fleet.db);
    await upsertClusters(fleet.db, [
      { name: "prod-1", environment: "prod", labels: {} },
      { name: "dev-1", environment: "dev", labels: {} },
    ]);
    nats = createTestNats("break-glass");
    nc = await connect({ servers: nats.url });
    names = wireNames(nats.prefix);
    now = T0;
    const clock = () => new Date(now);
    control = new BreakGlassControl({ db: fleet.db, names, signingKey: key, clock, sweepIntervalMs: 3_600_000 });
    await control.attach(nc);
    app = buildApi({ db: fleet.db, auth, clock, hub: { refresh: async () => ({ revision: "r", published: 0 }), ready: () => true, breakGlass: control } });
  });
  afterEach(async () => {
    await app?.close();
    await control?.stop();
    await nc?.close();
    await nats?.cleanup();
    await fleet?.close();
    await drop?.();
  });

  it("starts a window, publishes it signed, lists it and audits who and why", async () => {
    const r = await post("prod-1", { scope: { kind: "app", app: "shop" }, reason: "INC-7 hand scaling", ttlSeconds: 600 });
    expect(r.statusCode).toBe(201);
    const w = r.json() as BreakGlassWindow & { controlGeneration: number };
    expect(w).toMatchObject({
      cluster: "prod-1",
      scope: { kind: "app", app: "shop" },
      reason: "INC-7 hand scaling",
      author: "ada",
      startedAt: new Date(T0).toISOString(),
      expiresAt: new Date(T0 + 600_000).toISOString(),
    });
    expect(w.controlGeneration).toBeGreaterThanOrEqual(T0);

    const record = await readRecord("prod-1");
    expect(record).toBeDefined();
    expect(verifyControl(record!, key.publicKey)).toBe(true);
    expect(verifyControl(record!, generateSigningKey().publicKey)).toBe(false);
    expect(record).toMatchObject({ cluster: "prod-1", generation: w.controlGeneration, keyId: key.keyId });
    expect(record!.windows.map((x) => x.id)).toEqual([w.id]);
    expect(await readRecord("dev-1")).toBeUndefined();

    const { controlGeneration: _g, ...window } = w;
    expect((await inject({ url: "/v1/clusters/prod-1/break-glass" })).json()).toEqual([window]);
    expect((await inject({ url: "/v1/clusters/dev-1/break-glass" })).json()).toEqual([]);
    expect((await inject({ url: "/v1/break-glass" })).json()).toEqual([window]);
    expect((await inject({ url: "/v1/break-glass?cluster=dev-1" })).json()).toEqual([]);
    const audit = (await inject({ url: "/v1/break-glass/audit?cluster=prod-1" })).json() as { event: string; actor: string; reason: string }[];
    expect(audit).toEqual([expect.objectContaining({ windowId: w.id, event: "started", actor: "ada", reason: "INC-7 hand scaling" })]);
  });

  it("ends a window early: audited with actor and reason, republished without it at a higher generation", async () => {
    const started = (await post("prod-1", { scope: { kind: "object", object: deployment }, reason: "debug", ttlSeconds: 600 })).json() as { id: string; controlGeneration: number };
    now += 30_000;
    const del = await inject({ method: "DELETE", url: `/v1/clusters/prod-1/break-glass/${started.id}`, payload: { reason: "done" }, as: "grace" });
    expect(del.statusCode).toBe(200);
    expect(del.json()).toMatchObject({ id: started.id, endedAt: new Date(T0 + 30_000).toISOString(), endedBy: "grace", endReason: "done" });
    const record = await readRecord("prod-1");
    expect(record!.windows).toEqual([]);
    expect(record!.generation).toBeGreaterThan(started.controlGeneration);
    expect(verifyControl(record!, key.publicKey)).toBe(true);
    expect((await inject({ url: "/v1/break-glass" })).json()).toEqual([]);
    // Again: nothing written, the window as it is.
    const again = await inject({ method: "DELETE", url: `/v1/clusters/prod-1/break-glass/${started.id}`, as: "grace" });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ endedBy: "grace", controlGeneration: null });
    const audit = (await inject({ url: "/v1/break-glass/audit" })).json() as { event: string; actor: string; reason: string | null }[];
    expect(audit.map((a) => [a.event, a.actor, a.reason])).toEqual([
      ["ended", "grace", "done"],
      ["started", "ada", "debug"],
    ]);
    const missing = await inject({ method: "DELETE", url: `/v1/clusters/dev-1/break-glass/${started.id}`, as: "grace" });
    expect(missing.statusCode).toBe(404);
    expect(errorOf(missing)).toMatchObject({ code: "FLOTILLA_ERR_NOT_FOUND", location: { field: "id" } });
  });

  it("expires windows in the sweep, audited as the hub, and republishes the record", async () => {
    const w = (await post("prod-1", { scope: { kind: "cluster" }, reason: "migration", ttlSeconds: 5 })).json() as { id: string; controlGeneration: number };
    await control.sweep();
    expect((await readRecord("prod-1"))!.windows).toHaveLength(1);
    now += 5_000;
    await control.sweep();
    const record = await readRecord("prod-1");
    expect(record!.windows).toEqual([]);
    expect(record!.generation).toBeGreaterThan(w.controlGeneration);
    const audit = (await inject({ url: "/v1/break-glass/audit?cluster=prod-1" })).json() as { event: string; actor: string; at: string; window: { author: string; reason: string } }[];
    expect(audit.map((a) => [a.event, a.actor, a.at])).toEqual([
      ["expired", HUB_ACTOR, new Date(T0 + 5_000).toISOString()],
      ["started", "ada", new Date(T0).toISOString()],
    ]);
    expect(audit[0]!.window).toMatchObject({ author: "ada", reason: "migration" });
    // Ending it now says it already expired.
    const del = await inject({ method: "DELETE", url: `/v1/clusters/prod-1/break-glass/${w.id}`, as: "grace" });
    expect(del.json()).toMatchObject({ endedBy: HUB_ACTOR, endReason: "expired" });
  });

  it("names the field of every bad request", async () => {
    const ok = { scope: { kind: "cluster" }, reason: "r", ttlSeconds: 60 };
    const cases: [unknown, Record<string, string>, string, RegExp?][] = [
      [{ ...ok, scope: undefined }, {}, "scope"],
      [{ ...ok, scope: { kind: "namespace" } }, {}, "scope.kind", /cluster, app, object/],
      [{ ...ok, scope: { kind: "app" } }, {}, "scope.app"],
      [{ ...ok, scope: { kind: "object", object: { kind: "Deployment", name: "x", namespace: "s" } } }, {}, "scope.object.group"],
      [{ ...ok, scope: { kind: "cluster", app: "shop" } }, {}, "scope"],
      [{ ...ok, scope: { kind: "app", app: "shop", color: "red" } }, {}, "scope.color"],
      [{ ...ok, reason: "  " }, {}, "reason"],
      [{ ...ok, reason: undefined }, {}, "reason"],
      [{ ...ok, ttlSeconds: 86_401 }, {}, "ttlSeconds", /24 h/],
      [{ ...ok, ttlSeconds: 1.5 }, {}, "ttlSeconds"],
      [{ ...ok, ttlSeconds: undefined }, {}, "expiresAt", /exactly one/],
      [{ ...ok, expiresAt: new Date(T0 + 1000).toISOString() }, {}, "expiresAt", /exactly one/],
      [{ ...ok, ttlSeconds: undefined, expiresAt: "tomorrow" }, {}, "expiresAt", /ISO-8601/],
      [{ ...ok, ttlSeconds: undefined, expiresAt: new Date(T0 - 1000).toISOString() }, {}, "expiresAt", /not in the future/],
      [{ ...ok, ttlSeconds: undefined, expiresAt: new Date(T0 + 25 * 3600_000).toISOString() }, {}, "expiresAt", /24 h/],
      // Naming an actor is refused: the actor is the token's subject.
      [{ ...ok, author: "eve" }, {}, "author", /subject of your API token/],
      [ok, { "x-flotilla-actor": "eve" }, "x-flotilla-actor", /subject of your API token/],
      [{ ...ok, extra: 1 }, {}, "extra"],
    ];
    for (const [body, headers, field, message] of cases) {
      const r = await post("prod-1", body, headers);
      expect(r.statusCode, JSON.stringify(body)).toBe(400);
      const error = errorOf(r);
      expect(error.code).toBe("FLOTILLA_ERR_BAD_REQUEST");
      expect(error.location?.field, JSON.stringify(body)).toBe(field);
      if (message) expect(error.message).toMatch(message);
    }
    // An ISO expiry within a day works.
    const good = await post("prod-1", { ...ok, ttlSeconds: undefined, expiresAt: new Date(T0 + 3600_000).toISOString() });
    expect(good.statusCode).toBe(201);
    const unknown = await post("nope-1", ok);
    expect(unknown.statusCode).toBe(404);
    expect(errorOf(unknown)).toMatchObject({ code: "FLOTILLA_ERR_NOT_FOUND", location: { field: "name" } });
    expect((await inject({ url: "/v1/clusters/nope-1/break-glass" })).statusCode).toBe(404);
    // Without a token, or with a viewer's: refused before anything is looked at.
    const anonymous = await post("prod-1", ok, {}, null);
    expect([anonymous.statusCode, errorOf(anonymous).code]).toEqual([401, "FLOTILLA_ERR_UNAUTHORIZED"]);
    const viewer = await post("prod-1", ok, {}, "vic");
    expect([viewer.statusCode, errorOf(viewer).code]).toEqual([403, "FLOTILLA_ERR_FORBIDDEN"]);
    expect(errorOf(viewer).message).toMatch(/"vic" may not POST .*operator role/);
    const viewerEnd = await inject({ method: "DELETE", url: `/v1/clusters/prod-1/break-glass/x`, as: "vic" });
    expect(viewerEnd.statusCode).toBe(403);
    // Nothing of the refused requests reached the audit trail.
    expect(((await inject({ url: "/v1/break-glass/audit" })).json() as unknown[]).length).toBe(1);
  });

  it("refuses a body its schema does not allow, naming the field and what to send", async () => {
    const ok = { scope: { kind: "cluster" }, reason: "r", ttlSeconds: 60 };
    const cases: [unknown, string, RegExp][] = [
      [{ ...ok, ttlSeconds: "600" }, "ttlSeconds", /^body field "ttlSeconds" must be an integer between 1 and 86400 .*24 h.*, not "600"$/],
      [{ ...ok, ttlSeconds: 0 }, "ttlSeconds", /must be an integer between 1 and 86400/],
      [{ ...ok, reason: 42 }, "reason", /^body field "reason" must be a string between 1 and 1000 characters/],
      [{ ...ok, reason: "x".repeat(1001) }, "reason", /between 1 and 1000 characters/],
      [{ ...ok, scope: "cluster" }, "scope", /^body field "scope" must be a JSON object/],
      [{ ...ok, scope: {} }, "scope.kind", /^body field "scope\.kind" is required: one of cluster, app, object$/],
      [{ ...ok, scope: { kind: "object", object: { group: "", kind: "Deployment", namespace: "s", name: 5 } } }, "scope.object.name", /^body field "scope\.object\.name" must be a string/],
      [{ ...ok, extra: 1 }, "extra", /^body field "extra" is not accepted: accepted: scope, reason, expiresAt, ttlSeconds$/],
      [{ ...ok, reason: undefined }, "reason", /^body field "reason" is required: a string/],
      [[ok], "body", /^body must be a JSON object/],
    ];
    for (const [body, field, message] of cases) {
      const r = await post("prod-1", body);
      expect([r.statusCode, errorOf(r).code, errorOf(r).location?.field], JSON.stringify(body)).toEqual([400, "FLOTILLA_ERR_BAD_REQUEST", field]);
      expect(errorOf(r).message, JSON.stringify(body)).toMatch(message);
    }
    const started = await post("prod-1", ok);
    expect(started.statusCode).toBe(201);
    const { id } = started.json() as { id: string };
    const end = (payload: object) => inject({ method: "DELETE", url: `/v1/clusters/prod-1/break-glass/${id}`, payload, as: "grace" });
    for (const [body, field, message] of [
      [{ reason: 5 }, "reason", /^body field "reason" must be a string/],
      [{ reason: "done", why: "x" }, "why", /accepted: reason$/],
      [{ author: "eve" }, "author", /subject of your API token/],
    ] as const) {
      const r = await end(body);
      expect([r.statusCode, errorOf(r).location?.field, errorOf(r).message], JSON.stringify(body)).toEqual([400, field, expect.stringMatching(message)]);
    }
    // A query parameter on a route that takes none.
    const query = await inject({ method: "POST", url: "/v1/clusters/prod-1/break-glass?force=1", payload: ok });
    expect([query.statusCode, errorOf(query).location?.field, errorOf(query).message]).toEqual([400, "force", expect.stringContaining("this route takes no query parameters")]);
    expect((await end({ reason: "done" })).statusCode).toBe(200);
  });

  it("has no break-glass routes when the hub provides no break-glass operations", async () => {
    const bare = buildApi({ db: fleet.db, auth });
    try {
      expect((await bare.inject({ method: "POST", url: "/v1/clusters/prod-1/break-glass", payload: {}, headers: { authorization: `Bearer ${grants.ada.token}` } })).statusCode).toBe(404);
      expect((await bare.inject({ url: "/v1/break-glass", headers: { authorization: `Bearer ${grants.ada.token}` } })).statusCode).toBe(404);
    } finally {
      await bare.close();
    }
  });
});

describe("break-glass control across a hub restart", () => {
  it("republishes on attach with a higher generation, also after changes made before NATS was attached", async () => {
    const nats = createTestNats("break-glass-restart");
    const fleet = await openDatabase({});
    const nc = await connect({ servers: nats.url });
    const names = wireNames(nats.prefix);
    try {
      await migrateToLatest(fleet.db);
      await upsertClusters(fleet.db, [{ name: "prod-1", environment: "prod", labels: {} }]);
      const first = new BreakGlassControl({ db: fleet.db, names, signingKey: key, sweepIntervalMs: 3_600_000 });
      // Not attached yet: recorded, not published.
      const w = await first.start("prod-1", { scope: { kind: "cluster" }, reason: "r", author: "ada", expiresAt: new Date(Date.now() + 60_000) });
      expect(w.controlGeneration).toBeNull();
      await first.attach(nc);
      const kv = await new Kvm(nc).open(names.desiredBucket);
      const a = decodeJson((await kv.get(controlKey("prod-1")))!.value) as SignedControlRecord;
      expect(a.windows.map((x) => x.id)).toEqual([w.id]);
      await first.stop();
      const second = new BreakGlassControl({ db: fleet.db, names, signingKey: key, sweepIntervalMs: 3_600_000 });
      await second.attach(nc);
      const b = decodeJson((await kv.get(controlKey("prod-1")))!.value) as SignedControlRecord;
      expect(b.generation).toBeGreaterThan(a.generation);
      expect(b.windows).toEqual(a.windows);
      await second.stop();
    } finally {
      await nc.close();
      await fleet.close();
      await nats.cleanup();
    }
  });
});
