// The fleet API over a seeded database (fastify inject), on PG 15 and PGlite, and once end to end
// over NATS ingest.
import { randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import Fastify, { type FastifyInstance } from "fastify";
import { connect } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import { ErrorCode, FlotillaError, type DriftReport, type HeartbeatReport, type Report, type StatusReport } from "@flotilla/model";
import { createTestDatabase, createTestNats } from "@flotilla/testkit";
import {
  ingestReport,
  migrateToLatest,
  openDatabase,
  recordDesiredPointer,
  recordRejectedReport,
  recordRenderFailure,
  upsertClusters,
  type FleetDatabase,
} from "@flotilla/store";
import { encodeJson, generateSigningKey, reportSubject, signPointer, wireNames } from "@flotilla/wire";
import { buildApi, type HubControl } from "../src/api/index.js";
import { installErrorHandlers } from "../src/api/error-handler.js";
import { installQueryCheck } from "../src/api/query-check.js";
import { NO_QUERY, queryString } from "../src/api/query-params.js";
import { startIngest } from "../src/ingest.js";

const engines = [
  {
    name: "postgres",
    async open() {
      const testDb = await createTestDatabase("api");
      return { fleet: await openDatabase({ url: testDb.url }), drop: testDb.drop };
    },
  },
  { name: "pglite", open: async () => ({ fleet: await openDatabase({}), drop: async () => {} }) },
];

// These tests are about what the views answer; who may call them is auth.test.ts's subject.
const OPEN = { insecureNoAuth: true } as const;
const REV_1 = "1".repeat(40);
const REV_2 = "2".repeat(40);
const DIGEST = `sha256:${"a".repeat(64)}`;
const IMAGE = `registry.example/inventory-api@sha256:${"c".repeat(64)}`;
const ago = (seconds: number) => new Date(Date.now() - seconds * 1000).toISOString();
const header = (cluster: string, at = ago(0)) => ({ id: randomUUID(), cluster, agent: `${cluster}/agent-0/1`, at });

const status = (cluster: string, over: Partial<StatusReport> = {}): StatusReport => ({
  ...header(cluster),
  kind: "status",
  generation: 1,
  revision: REV_1,
  bundleDigest: DIGEST,
  observedRevision: REV_1,
  syncState: "Synced",
  health: "Healthy",
  apps: [
    {
      name: "shop",
      health: "Healthy",
      objects: [
        {
          ref: { group: "apps", kind: "Deployment", namespace: "shop", name: "inventory-api" },
          action: "configured",
          reason: "Applied",
          health: "Healthy",
          healthReason: "Current",
          images: [IMAGE],
        },
      ],
    },
  ],
  ...over,
});
const heartbeat = (cluster: string, at: string, deadlineSeconds = 30): HeartbeatReport => ({
  ...header(cluster, at),
  kind: "heartbeat",
  generation: 1,
  deadlineSeconds,
});
const drift = (cluster: string, at: string, over: Partial<DriftReport> = {}): DriftReport => ({
  ...header(cluster, at),
  kind: "drift",
  generation: 1,
  revision: REV_1,
  app: "shop",
  object: { group: "apps", kind: "Deployment", namespace: "shop", name: "inventory-api" },
  paths: [{ path: "/spec/replicas", desired: 3, live: 5 }],
  actor: "kubectl-edit",
  changedAt: at,
  policy: "warn",
  action: "left",
  ...over,
});

let seq = 0;
const ingest = (fleet: FleetDatabase, r: Report) => ingestReport(fleet.db, r, { messageId: r.id, subject: `t.report.${r.cluster}.${r.kind}`, streamSeq: ++seq });

describe.each(engines)("fleet API on $name", (engine) => {
  let fleet: FleetDatabase;
  let drop: () => Promise<void>;
  let api: FastifyInstance;
  const drifts: DriftReport[] = [];

  beforeEach(async () => {
    ({ fleet, drop } = await engine.open());
    await migrateToLatest(fleet.db);
    await upsertClusters(fleet.db, [
      { name: "prod-eu-1", environment: "prod", labels: { region: "eu" } },
      { name: "prod-us-1", environment: "prod", labels: { region: "us" } },
      { name: "dev-1", environment: "dev", labels: {} },
    ]);
    const key = generateSigningKey();
    for (const [cluster, generation] of [["prod-eu-1", 1], ["prod-us-1", 1], ["prod-eu-1", 2]] as const) {
      await recordDesiredPointer(
        fleet.db,
        signPointer({ cluster, generation, revision: generation === 2 ? REV_2 : REV_1, bundleDigest: DIGEST, issuedAt: ago(600), commit: { author: "ada", message: "scale shop" } }, key),
      );
    }
    // prod-eu-1: alive, but its status is for generation 1 while generation 2 is desired.
    // Statuses from before the drift below (a Synced status after a drift would resolve it).
    await ingest(fleet, status("prod-eu-1", { at: ago(400) }));
    await ingest(fleet, heartbeat("prod-eu-1", ago(5)));
    // prod-us-1: Synced at its desired generation, but silent for two minutes (deadline 30 s).
    await ingest(fleet, status("prod-us-1", { at: ago(400), lastError: { code: "FLOTILLA_ERR_APPLY_FAILED", message: "webhook timeout" } }));
    await ingest(fleet, heartbeat("prod-us-1", ago(120), 30));
    drifts.length = 0;
    drifts.push(
      drift("prod-eu-1", ago(300), { object: { group: "", kind: "ConfigMap", namespace: "shop", name: "cfg" } }),
      drift("prod-us-1", ago(200)),
      drift("prod-eu-1", ago(100)),
      drift("prod-eu-1", ago(50), { object: { group: "", kind: "Service", namespace: "shop", name: "web" }, action: "reverted", policy: "enforce" }),
    );
    for (const d of drifts) await ingest(fleet, d);
    api = buildApi({ db: fleet.db, auth: OPEN });
  });
  afterEach(async () => {
    await api.close();
    await fleet.close();
    await drop();
  });

  const get = async (url: string) => {
    const res = await api.inject({ method: "GET", url });
    return { status: res.statusCode, body: res.json() };
  };

  it("lists every cluster with desired pointer, sync state, heartbeat and open drift", async () => {
    const { status: code, body } = await get("/v1/clusters");
    expect(code).toBe(200);
    expect(body.map((c: { name: string }) => c.name)).toEqual(["dev-1", "prod-eu-1", "prod-us-1"]);
    const [dev, eu, us] = body;
    expect(dev).toMatchObject({ environment: "dev", desired: null, syncState: "Unknown", health: "Unknown", lastHeartbeat: null, openDriftCount: 0 });
    expect(eu).toMatchObject({
      labels: { region: "eu" },
      desired: { revision: REV_2, generation: 2, bundleDigest: DIGEST, issuedAt: expect.any(String), commit: { author: "ada", message: "scale shop" } },
      observedRevision: REV_1,
      // Its Synced status describes generation 1: it does not count for generation 2.
      syncState: "OutOfSync",
      health: "Healthy",
      openDriftCount: 2,
      lastError: null,
    });
    expect(Date.parse(eu.lastHeartbeat)).toBeGreaterThan(Date.now() - 60_000);
    // Silent past its heartbeat deadline.
    expect(us).toMatchObject({ syncState: "Unknown", health: "Unknown", openDriftCount: 1, lastError: { code: "FLOTILLA_ERR_APPLY_FAILED" } });
  });

  it("turns a cluster Unknown once its heartbeat deadline passes", async () => {
    const later = buildApi({ db: fleet.db, auth: OPEN, clock: () => new Date(Date.now() + 31_000) });
    try {
      const res = await later.inject({ method: "GET", url: "/v1/clusters/prod-eu-1" });
      expect(res.json()).toMatchObject({ syncState: "Unknown", reported: { syncState: "Synced", generation: 1 } });
    } finally {
      await later.close();
    }
  });

  it("shows one cluster with its apps, objects and images", async () => {
    const { status: code, body } = await get("/v1/clusters/prod-eu-1");
    expect(code).toBe(200);
    expect(body.heartbeat).toMatchObject({ agent: "prod-eu-1/agent-0/1", deadlineSeconds: 30, generation: 1 });
    expect(body.apps).toEqual([
      {
        name: "shop",
        health: "Healthy",
        generation: 1,
        updatedAt: expect.any(String),
        objects: [
          expect.objectContaining({ group: "apps", kind: "Deployment", namespace: "shop", name: "inventory-api", action: "configured", health: "Healthy", healthReason: "Current", images: [IMAGE] }),
        ],
      },
    ]);
  });

  it("answers 404 naming an unknown cluster and 400 for a malformed name", async () => {
    const missing = await get("/v1/clusters/prod-ap-9");
    expect(missing).toEqual({ status: 404, body: { error: { code: "FLOTILLA_ERR_NOT_FOUND", message: expect.stringContaining('"prod-ap-9"'), location: { field: "name" } } } });
    const bad = await get("/v1/clusters/Prod_EU");
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatchObject({ code: "FLOTILLA_ERR_BAD_REQUEST", location: { field: "name" } });
  });

  it("serves the drift ledger newest first, filtered by cluster, since and limit", async () => {
    const all = await get("/v1/drift");
    expect(all.status).toBe(200);
    expect(all.body.map((e: { id: string }) => e.id)).toEqual([...drifts].reverse().map((d) => d.id));
    expect(all.body[0]).toMatchObject({ cluster: "prod-eu-1", object: { kind: "Service", name: "web" }, action: "reverted", resolvedAt: expect.any(String) });
    expect(all.body[1]).toMatchObject({ paths: [{ path: "/spec/replicas", desired: 3, live: 5 }], actor: "kubectl-edit", policy: "warn", resolvedAt: null });

    const eu = await get("/v1/drift?cluster=prod-eu-1");
    expect(eu.body.map((e: { id: string }) => e.id)).toEqual([drifts[3]!.id, drifts[2]!.id, drifts[0]!.id]);
    const since = encodeURIComponent(ago(250));
    const recent = await get(`/v1/drift?since=${since}&cluster=prod-eu-1`);
    expect(recent.body.map((e: { id: string }) => e.id)).toEqual([drifts[3]!.id, drifts[2]!.id]);
    const one = await get("/v1/drift?limit=1");
    expect(one.body.map((e: { id: string }) => e.id)).toEqual([drifts[3]!.id]);
  });

  it("refuses bad drift query parameters, naming the field", async () => {
    for (const [query, field] of [
      ["since=yesterday", "since"],
      ["since=2026-13-45T00:00:00Z", "since"],
      ["limit=0", "limit"],
      ["limit=ten", "limit"],
      ["cluster=NOT%20A%20CLUSTER", "cluster"],
      ["clustr=prod-eu-1", "clustr"],
    ] as const) {
      const res = await get(`/v1/drift?${query}`);
      expect({ query, status: res.status, code: res.body.error?.code, field: res.body.error?.location?.field }).toEqual({
        query,
        status: 400,
        code: "FLOTILLA_ERR_BAD_REQUEST",
        field,
      });
    }
  });

  it("refuses an undeclared query parameter on every GET route, naming it and the accepted ones", async () => {
    for (const [url, accepted] of [
      ["/v1/clusters?verbose=1", "this route takes no query parameters"],
      ["/v1/clusters/prod-eu-1?verbose=1", "this route takes no query parameters"],
      ["/v1/render-failures?verbose=1", "this route takes no query parameters"],
      ["/v1/rejected-reports?verbose=1", "accepted: limit"],
      ["/v1/drift?limit=5&verbose=1", "accepted: cluster, app, environment, kind, namespace, actor, action, state, since, until, limit, cursor"],
      ["/healthz?verbose=1", "this route takes no query parameters"],
      ["/readyz?verbose=1", "this route takes no query parameters"],
    ] as const) {
      const res = await get(url);
      const route = url.split("?")[0]!.replace("prod-eu-1", ":name");
      expect({ url, status: res.status, error: res.body.error }).toEqual({
        url,
        status: 400,
        error: { code: "FLOTILLA_ERR_BAD_REQUEST", message: `query parameter "verbose" is not accepted by GET ${route}: ${accepted}`, location: { field: "verbose" } },
      });
    }
    // The dashboard's static files ignore a query string (a browser's cache-buster, a link's tracking).
    expect((await api.inject({ url: "/ui?v=2" })).statusCode).toBe(200);
  });

  it("serves the latest unresolved render failure with file and line", async () => {
    expect(await get("/v1/render-failures")).toEqual({ status: 200, body: { latest: null } });
    const errors = [{ code: ErrorCode.ManifestInvalid, message: "mapping values are not allowed here", location: { file: "apps/shop/base/deployment.yaml", line: 14, column: 9 } }];
    await recordRenderFailure(fleet.db, REV_2, errors);
    expect(await get("/v1/render-failures")).toEqual({ status: 200, body: { latest: { revision: REV_2, at: expect.any(String), errors } } });
  });

  it("lists rejected reports newest first with their bytes", async () => {
    const bytes = [new TextEncoder().encode('{"kind":"status"'), new Uint8Array([0xff, 0xfe])];
    for (const [i, raw] of bytes.entries()) {
      await recordRejectedReport(fleet.db, { subject: "t.report.prod-eu-1.status", streamSeq: 10 + i, error: { code: ErrorCode.ReportInvalid, message: "not JSON" }, raw });
    }
    const { status: code, body } = await get("/v1/rejected-reports?limit=5");
    expect(code).toBe(200);
    expect(body).toEqual([
      { messageId: null, subject: "t.report.prod-eu-1.status", streamSeq: 11, error: { code: "FLOTILLA_ERR_REPORT_INVALID", message: "not JSON" }, at: expect.any(String), rawText: null, rawBase64: "//4=" },
      expect.objectContaining({ streamSeq: 10, rawText: '{"kind":"status"' }),
    ]);
    expect((await get("/v1/rejected-reports?limit=-1")).status).toBe(400);
  });

  it("answers probes, and readyz follows the hub", async () => {
    expect(await get("/healthz")).toEqual({ status: 200, body: { status: "ok" } });
    expect(await get("/readyz")).toEqual({ status: 200, body: { status: "ready", checks: { database: true } } });
    let ready = false;
    const hub: HubControl = { ready: () => ready, refresh: async () => ({ revision: REV_2, published: 2 }) };
    const withHub = buildApi({ db: fleet.db, auth: OPEN, hub });
    try {
      const notReady = await withHub.inject({ method: "GET", url: "/readyz" });
      expect([notReady.statusCode, notReady.json()]).toEqual([503, { status: "not-ready", checks: { database: true, hub: false } }]);
      ready = true;
      expect((await withHub.inject({ method: "GET", url: "/readyz" })).statusCode).toBe(200);
    } finally {
      await withHub.close();
    }
    // A database server that does not answer (nothing listens on port 1).
    const gone = await openDatabase({ url: "postgres://postgres@127.0.0.1:1/flotilla" });
    const withoutDb = buildApi({ db: gone.db, auth: OPEN });
    try {
      const res = await withoutDb.inject({ method: "GET", url: "/readyz" });
      expect([res.statusCode, res.json()]).toEqual([503, { status: "not-ready", checks: { database: false } }]);
    } finally {
      await withoutDb.close();
      await gone.close();
    }
  });

  it("triggers a refresh, mapping hub errors through their codes", async () => {
    let outcome: () => Promise<{ revision: string; published: number }> = async () => ({ revision: REV_2, published: 2 });
    const withHub = buildApi({ db: fleet.db, auth: OPEN, hub: { ready: () => true, refresh: () => outcome() } });
    try {
      const ok = await withHub.inject({ method: "POST", url: "/v1/refresh" });
      expect([ok.statusCode, ok.json()]).toEqual([200, { revision: REV_2, published: 2 }]);
      outcome = async () => {
        throw new FlotillaError(ErrorCode.RepoUnavailable, "env repo unreachable: connect ECONNREFUSED");
      };
      const down = await withHub.inject({ method: "POST", url: "/v1/refresh" });
      expect([down.statusCode, down.json()]).toEqual([503, { error: { code: "FLOTILLA_ERR_REPO_UNAVAILABLE", message: "env repo unreachable: connect ECONNREFUSED" } }]);
      outcome = async () => {
        throw new Error("secret internals");
      };
      const bug = await withHub.inject({ method: "POST", url: "/v1/refresh" });
      expect(bug.statusCode).toBe(500);
      expect(bug.json().error.code).toBe("FLOTILLA_ERR_INTERNAL");
      expect(bug.body).not.toContain("secret internals");
    } finally {
      await withHub.close();
    }
    // Without a hub there is nothing to refresh.
    const none = await api.inject({ method: "POST", url: "/v1/refresh" });
    expect([none.statusCode, none.json().error.code]).toEqual([404, "FLOTILLA_ERR_NOT_FOUND"]);
  });

  it("shows what agents published on NATS once ingested", async () => {
    const testNats = createTestNats("api");
    const names = wireNames(testNats.prefix);
    const nc = await connect({ servers: testNats.url });
    const handle = await startIngest({ nc, names, db: fleet.db });
    try {
      const js = jetstream(nc);
      const reports: Report[] = [heartbeat("dev-1", ago(0)), status("dev-1", { syncState: "Applying", health: "Progressing" }), drift("dev-1", ago(0))];
      for (const r of reports) await js.publish(reportSubject(names, r.cluster, r.kind), encodeJson(r), { msgID: r.id });
      const deadline = Date.now() + 20_000;
      let dev: { syncState?: string; openDriftCount?: number } = {};
      while (!(dev.syncState === "Applying" && dev.openDriftCount === 1)) {
        if (Date.now() > deadline) throw new Error(`dev-1 never showed the published reports: ${JSON.stringify(dev)}`);
        await new Promise((r) => setTimeout(r, 50));
        dev = (await get("/v1/clusters/dev-1")).body;
      }
      expect(dev).toMatchObject({ health: "Progressing", lastHeartbeat: expect.any(String) });
    } finally {
      await handle.stop();
      await nc.close();
      await testNats.cleanup();
    }
  });
});

describe("query string declarations", () => {
  it("refuses to build a GET route that declares no query string, and checks the ones that do", async () => {
    const app = Fastify();
    installErrorHandlers(app);
    installQueryCheck(app);
    expect(() => app.get("/v1/forgot", async () => ({}))).toThrow(/GET \/v1\/forgot declares no query string: give it schema\.querystring/);
    // Other methods need not declare one (their input is the body), and are checked when they do.
    app.post("/v1/action", async () => ({}));
    app.get("/v1/declared", { schema: { querystring: queryString({ only: "a filter" }) } }, async () => ({ ok: true }));
    app.get("/v1/none", { schema: { querystring: NO_QUERY } }, async () => ({ ok: true }));
    expect((await app.inject({ url: "/v1/declared?only=x" })).statusCode).toBe(200);
    expect((await app.inject({ method: "HEAD", url: "/v1/declared?other=x" })).statusCode).toBe(400);
    expect((await app.inject({ url: "/v1/none?only=x" })).statusCode).toBe(400);
    await app.close();
  });
});
