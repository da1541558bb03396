import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { signPointer, generateSigningKey } from "@flotilla/wire";
import {
  currentDesiredPointer,
  ingestReport,
  ingestReports,
  latestRenderFailure,
  listClusterOverviews,
  listDriftEvents,
  encodeDriftCursor,
  decodeDriftCursor,
  type DriftLedgerQuery,
  listRejectedReports,
  nextGeneration,
  nextGenerations,
  pruneIngestedMessages,
  recordDesiredPointer,
  recordRejectedReport,
  recordRenderFailure,
  resolveRenderFailures,
  upsertClusters,
  type FleetDatabase,
} from "../src/index.js";
import { engines } from "./engines.js";
import { DIGEST_A, DIGEST_B, REV_1, REV_2, driftReport, heartbeatReport, metaOf, statusReport } from "./reports.js";

const key = generateSigningKey();
const pointer = (generation: number, revision = REV_1, bundleDigest = DIGEST_A) =>
  signPointer(
    { cluster: "prod-eu-1", revision, bundleDigest, generation, issuedAt: new Date().toISOString(), commit: { author: "ada", message: "scale" } },
    key,
  );

describe.each(engines)("repositories on $name", (engine) => {
  let fleet: FleetDatabase;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ fleet, cleanup } = await engine.open("repos"));
    await upsertClusters(fleet.db, [{ name: "prod-eu-1", environment: "prod", labels: { region: "eu" } }]);
  });
  afterEach(() => cleanup());

  it("upserts clusters and retires the ones that left the fleet file", async () => {
    const { db } = fleet;
    await upsertClusters(db, [
      { name: "prod-eu-1", environment: "prod", labels: { region: "eu", tier: "1" } },
      { name: "dev-1", environment: "dev", labels: {}, namespaces: ["team-a"] },
    ]);
    let all = await listClusterOverviews(db);
    expect(all.map((c) => [c.name, c.labels, c.namespaces])).toEqual([
      ["dev-1", {}, ["team-a"]],
      ["prod-eu-1", { region: "eu", tier: "1" }, null],
    ]);
    await upsertClusters(db, [{ name: "dev-1", environment: "dev", labels: {} }], { retireMissing: true });
    all = await listClusterOverviews(db);
    expect(all.map((c) => c.name)).toEqual(["dev-1"]);
  });

  it("issues generations that keep increasing, also past what agents reported", async () => {
    const { db } = fleet;
    expect(await nextGeneration(db, "prod-eu-1")).toBe(1);
    await recordDesiredPointer(db, pointer(1));
    await recordDesiredPointer(db, pointer(2, REV_2, DIGEST_B));
    expect(await nextGeneration(db, "prod-eu-1")).toBe(3);
    expect(await currentDesiredPointer(db, "prod-eu-1")).toMatchObject({ generation: 2, revision: REV_2, bundleDigest: DIGEST_B, commit: { author: "ada" } });
    // An agent that holds generation 7 (e.g. the hub's database was restored from a backup).
    await ingestReport(db, heartbeatReport({ generation: 7 }), metaOf({ id: "hb", cluster: "prod-eu-1", kind: "heartbeat" }));
    expect(await nextGeneration(db, "prod-eu-1")).toBe(8);
  });

  it("issues the next generations of many clusters in one query, each as nextGeneration would", async () => {
    const { db } = fleet;
    await recordDesiredPointer(db, pointer(1));
    await recordDesiredPointer(db, pointer(2, REV_2, DIGEST_B));
    await upsertClusters(db, [{ name: "dev-1", environment: "dev", labels: {} }]);
    await ingestReport(db, heartbeatReport({ cluster: "dev-1", agent: "dev-1/agent-0/1", generation: 5 }), metaOf({ id: "hb-dev", cluster: "dev-1", kind: "heartbeat" }));
    const next = await nextGenerations(db, ["prod-eu-1", "dev-1", "new-1", "prod-eu-1"]);
    expect(Object.fromEntries(next)).toEqual({ "prod-eu-1": 3, "dev-1": 6, "new-1": 1 });
    for (const [cluster, generation] of next) expect(await nextGeneration(db, cluster)).toBe(generation);
    expect((await nextGenerations(db, [])).size).toBe(0);
  });

  it("refuses a second, different pointer for a used generation and accepts the same one again", async () => {
    const { db } = fleet;
    const p = pointer(1);
    await recordDesiredPointer(db, p);
    await recordDesiredPointer(db, p);
    await expect(recordDesiredPointer(db, pointer(1, REV_2, DIGEST_B))).rejects.toMatchObject({ code: "FLOTILLA_ERR_STALE_GENERATION" });
  });

  it("keeps the latest open render failure until a good render resolves it", async () => {
    const { db } = fleet;
    expect(await latestRenderFailure(db)).toBeUndefined();
    const errors = [{ code: "FLOTILLA_ERR_MANIFEST_INVALID" as const, message: "bad yaml", location: { file: "apps/shop/base/deploy.yaml", line: 12 } }];
    await recordRenderFailure(db, REV_1, errors);
    await recordRenderFailure(db, REV_1, errors); // the same revision rendered again
    await recordRenderFailure(db, REV_2, [{ code: "FLOTILLA_ERR_RENDER_FAILED", message: "cycle" }]);
    expect(await latestRenderFailure(db)).toMatchObject({ revision: REV_2 });
    expect(await resolveRenderFailures(db, "3".repeat(40))).toBe(2);
    expect(await latestRenderFailure(db)).toBeUndefined();
    await recordRenderFailure(db, REV_1, errors); // the bad revision can fail again later
    expect(await latestRenderFailure(db)).toEqual({ revision: REV_1, at: expect.any(String), errors });
  });

  it("ingests a message id once", async () => {
    const { db } = fleet;
    const r = driftReport();
    expect(await ingestReport(db, r, metaOf(r))).toBe("ingested");
    expect(await ingestReport(db, r, metaOf(r))).toBe("duplicate");
    const rows = await db.selectFrom("drift_events").selectAll().execute();
    expect(rows).toHaveLength(1);
    expect(await db.selectFrom("ingested_messages").selectAll().execute()).toHaveLength(1);
  });

  it("writes a batch in order in one transaction, duplicates inside it included, or nothing", async () => {
    const { db } = fleet;
    const d = driftReport();
    const s1 = statusReport({ generation: 2 });
    const s0 = statusReport({ generation: 1 });
    const outcomes = await ingestReports(db, [d, d, s1, s0].map((report) => ({ report, meta: metaOf(report) })));
    expect(outcomes).toEqual(["ingested", "duplicate", "ingested", "stale"]);
    const bad = driftReport({ at: "soon" });
    const good = heartbeatReport();
    await expect(ingestReports(db, [good, bad].map((report) => ({ report, meta: metaOf(report) })))).rejects.toMatchObject({ code: "FLOTILLA_ERR_REPORT_INVALID" });
    expect(await db.selectFrom("heartbeats").selectAll().execute()).toEqual([]);
    expect(await db.selectFrom("ingested_messages").selectAll().execute()).toHaveLength(3);
  });

  it("drops, in a batch, the objects a later snapshot no longer has, and writes nothing twice when the batch is redelivered", async () => {
    const { db } = fleet;
    const first = statusReport({ generation: 1 });
    const kept = first.apps[0]!.objects[0]!;
    // The same cluster's next snapshot, in the same batch: one of the two objects is gone.
    const second = statusReport({ generation: 2, apps: [{ name: "shop", health: "Healthy", objects: [kept] }] });
    const drift = driftReport();
    const beat = heartbeatReport();
    const batch = [first, drift, second, beat].map((report) => ({ report, meta: metaOf(report) }));
    expect(await ingestReports(db, batch)).toEqual(["ingested", "ingested", "ingested", "ingested"]);
    const rows = async () => ({
      objects: await db.selectFrom("object_status").selectAll().execute(),
      apps: await db.selectFrom("app_status").selectAll().execute(),
      status: await db.selectFrom("cluster_status").selectAll().execute(),
      drift: await db.selectFrom("drift_events").selectAll().execute(),
      heartbeats: await db.selectFrom("heartbeats").selectAll().execute(),
      messages: await db.selectFrom("ingested_messages").select("message_id").orderBy("message_id").execute(),
    });
    const before = await rows();
    expect(before.objects).toEqual([expect.objectContaining({ kind: kept.ref.kind, name: kept.ref.name, generation: 2 })]);
    expect(before.drift).toHaveLength(1);
    expect(before.messages).toHaveLength(4);
    // The hub committed and died before acking: JetStream delivers the whole batch again.
    expect(await ingestReports(db, batch)).toEqual(["duplicate", "duplicate", "duplicate", "duplicate"]);
    expect(await rows()).toEqual(before);
  });

  it("never lets status for an older generation overwrite the newer one", async () => {
    const { db } = fleet;
    const newer = statusReport({ generation: 5, revision: REV_2, syncState: "Applying" });
    const older = statusReport({ generation: 4, revision: REV_1, syncState: "Synced", apps: [] });
    expect(await ingestReport(db, newer, metaOf(newer))).toBe("ingested");
    expect(await ingestReport(db, older, metaOf(older))).toBe("stale");
    const row = await db.selectFrom("cluster_status").selectAll().executeTakeFirstOrThrow();
    expect(row).toMatchObject({ generation: 5, revision: REV_2, sync_state: "Applying" });
    expect(await db.selectFrom("object_status").selectAll().execute()).toHaveLength(2);
    // Same generation, reported earlier than the stored one (out of order): also ignored.
    const earlier = statusReport({ generation: 5, syncState: "Failed", at: new Date(Date.now() - 60_000).toISOString() });
    expect(await ingestReport(db, earlier, metaOf(earlier))).toBe("stale");
    const later = statusReport({ generation: 5, revision: REV_2, syncState: "Synced", at: new Date(Date.now() + 1000).toISOString() });
    expect(await ingestReport(db, later, metaOf(later))).toBe("ingested");
    expect(await db.selectFrom("cluster_status").select("sync_state").executeTakeFirstOrThrow()).toEqual({ sync_state: "Synced" });
  });

  it("replaces the cluster's app and object status with each status snapshot", async () => {
    const { db } = fleet;
    const first = statusReport();
    await ingestReport(db, first, metaOf(first));
    const second = statusReport({
      generation: 2,
      apps: [
        {
          name: "billing",
          health: "Progressing",
          objects: [
            {
              ref: { group: "apps", kind: "Deployment", namespace: "billing", name: "api" },
              action: "created",
              reason: "Applied",
              health: "Progressing",
              healthReason: "LessReplicas",
              images: ["registry.example/billing@sha256:" + "d".repeat(64)],
            },
          ],
        },
      ],
    });
    await ingestReport(db, second, metaOf(second));
    const objects = await db.selectFrom("object_status").selectAll().execute();
    expect(objects).toEqual([
      expect.objectContaining({ app: "billing", name: "api", health: "Progressing", health_reason: "LessReplicas", generation: 2, images: [expect.stringContaining("billing@sha256")] }),
    ]);
    expect(await db.selectFrom("app_status").select(["app", "health"]).execute()).toEqual([{ app: "billing", health: "Progressing" }]);
  });

  it("keeps drift open until reverted, superseded or the cluster reports Synced at a newer generation", async () => {
    const { db } = fleet;
    const t0 = Date.now() - 10_000;
    const at = (s: number) => new Date(t0 + s * 1000).toISOString();
    const reverted = driftReport({ at: at(1), action: "reverted", policy: "enforce" });
    const left = driftReport({ at: at(2), object: { group: "", kind: "ConfigMap", namespace: "shop", name: "cfg" } });
    const first = driftReport({ at: at(3) });
    const superseding = driftReport({ at: at(4) });
    for (const r of [reverted, left, first, superseding]) await ingestReport(db, r, metaOf(r));
    const open = async () =>
      (await db.selectFrom("drift_events").select("id").where("resolved_at", "is", null).orderBy("id").execute()).map((r) => r.id).sort();
    expect(await open()).toEqual([left.id, superseding.id].sort());
    // Synced at the drift's own generation: drift left in place by policy is still there.
    const sameGeneration = statusReport({ at: at(5) });
    await ingestReport(db, sameGeneration, metaOf(sameGeneration));
    expect(await open()).toEqual([left.id, superseding.id].sort());
    const newGeneration = statusReport({ at: at(6), generation: 2 });
    await ingestReport(db, newGeneration, metaOf(newGeneration));
    expect(await open()).toEqual([]);
  });

  it("filters the drift ledger by app, environment, kind, namespace, actor, action, open/closed and time, and pages by cursor", async () => {
    const { db } = fleet;
    await upsertClusters(db, [
      { name: "prod-eu-1", environment: "prod", labels: {} },
      { name: "dev-1", environment: "dev", labels: {} },
    ]);
    const t0 = Date.now() - 60_000;
    const at = (s: number) => new Date(t0 + s * 1000).toISOString();
    const rows = [
      driftReport({ at: at(1), actor: "helm" }),
      driftReport({ at: at(2), app: "web", object: { group: "", kind: "ConfigMap", namespace: "web", name: "cfg" } }),
      driftReport({ at: at(3), action: "reverted", policy: "enforce" }),
      driftReport({ at: at(4), cluster: "dev-1", agent: "dev-1/agent-0/1" }),
      driftReport({ at: at(5) }),
    ];
    for (const r of rows) await ingestReport(db, r, metaOf(r));
    const ids = async (q: Partial<DriftLedgerQuery>) => (await listDriftEvents(db, { limit: 100, ...q })).map((e) => e.id);
    const id = (i: number) => rows[i]!.id;
    expect(await ids({ app: "web" })).toEqual([id(1)]);
    expect(await ids({ environment: "dev" })).toEqual([id(3)]);
    expect(await ids({ kind: "ConfigMap", namespace: "web" })).toEqual([id(1)]);
    expect(await ids({ actor: "helm" })).toEqual([id(0)]);
    expect(await ids({ action: "reverted" })).toEqual([id(2)]);
    expect(await ids({ state: "closed", cluster: "prod-eu-1" })).toEqual(expect.arrayContaining([id(2)]));
    expect((await ids({ state: "open" })).includes(id(2))).toBe(false);
    expect(await ids({ since: new Date(at(2)), until: new Date(at(4)) })).toEqual([id(2), id(1)]);
    // Pages of two, newest first, by cursor: every event once, in order.
    const seen: string[] = [];
    let after: ReturnType<typeof decodeDriftCursor>;
    for (;;) {
      const page = await listDriftEvents(db, { limit: 2, ...(after ? { after } : {}) });
      seen.push(...page.map((e) => e.id));
      if (page.length < 2) break;
      const last = page[page.length - 1]!;
      after = decodeDriftCursor(encodeDriftCursor({ detectedAt: new Date(last.detectedAt), id: last.id }));
    }
    expect(seen).toEqual([...rows].reverse().map((r) => r.id));
    expect(decodeDriftCursor("not-a-cursor")).toBeUndefined();
  });

  it("files a drift event that arrives late (redelivered) as resolved when newer state supersedes it", async () => {
    const { db } = fleet;
    const t0 = Date.now() - 10_000;
    const at = (s: number) => new Date(t0 + s * 1000).toISOString();
    const newer = driftReport({ at: at(4) });
    const older = driftReport({ at: at(2) });
    await ingestReport(db, newer, metaOf(newer));
    await ingestReport(db, older, metaOf(older));
    const cfg = { group: "", kind: "ConfigMap", namespace: "shop", name: "cfg" };
    const synced = statusReport({ at: at(6), generation: 2 });
    await ingestReport(db, synced, metaOf(synced));
    const beforeSync = driftReport({ at: at(5), object: cfg });
    await ingestReport(db, beforeSync, metaOf(beforeSync));
    const afterSync = driftReport({ at: at(7), object: cfg, generation: 2 });
    await ingestReport(db, afterSync, metaOf(afterSync));
    // Before the Synced status in time, but of the same generation: still open.
    const sameGeneration = driftReport({ at: at(5.5), object: { ...cfg, name: "other" }, generation: 2 });
    await ingestReport(db, sameGeneration, metaOf(sameGeneration));
    const rows = await db.selectFrom("drift_events").select(["id", "resolved_at"]).execute();
    const resolved = Object.fromEntries(rows.map((r) => [r.id, r.resolved_at?.toISOString() ?? null]));
    expect(resolved).toEqual({
      [older.id]: new Date(at(4)).toISOString(),
      [newer.id]: new Date(at(6)).toISOString(),
      [beforeSync.id]: new Date(at(6)).toISOString(),
      [afterSync.id]: null,
      [sameGeneration.id]: null,
    });
  });

  it("ignores a heartbeat older than the stored one", async () => {
    const { db } = fleet;
    const now = heartbeatReport({ generation: 2 });
    const late = heartbeatReport({ generation: 1, at: new Date(Date.now() - 60_000).toISOString() });
    expect(await ingestReport(db, now, metaOf(now))).toBe("ingested");
    expect(await ingestReport(db, late, metaOf(late))).toBe("stale");
    expect(await db.selectFrom("heartbeats").select(["generation"]).execute()).toEqual([{ generation: 2 }]);
  });

  it("refuses a report whose timestamp is not ISO-8601, naming the field, and writes nothing", async () => {
    const { db } = fleet;
    const bad = driftReport({ changedAt: "yesterday" });
    await expect(ingestReport(db, bad, metaOf(bad))).rejects.toMatchObject({
      code: "FLOTILLA_ERR_REPORT_INVALID",
      location: { field: "changedAt" },
    });
    expect(await db.selectFrom("ingested_messages").selectAll().execute()).toEqual([]);
  });

  it("forgets old ingested message ids only", async () => {
    const { db } = fleet;
    const old = heartbeatReport();
    const recent = heartbeatReport();
    await ingestReport(db, old, metaOf(old));
    await ingestReport(db, recent, metaOf(recent));
    await db.updateTable("ingested_messages").set({ ingested_at: new Date(Date.now() - 8 * 24 * 3600_000) }).where("message_id", "=", old.id).execute();
    expect(await pruneIngestedMessages(db, new Date(Date.now() - 7 * 24 * 3600_000))).toBe(1);
    expect((await db.selectFrom("ingested_messages").select("message_id").execute()).map((r) => r.message_id)).toEqual([recent.id]);
  });

  it("records a rejected report with its raw bytes, once", async () => {
    const { db } = fleet;
    const raw = new Uint8Array([123, 0, 255, 10]);
    const input = {
      subject: "flotilla.report.prod-eu-1.status",
      streamSeq: 42,
      error: { code: "FLOTILLA_ERR_REPORT_INVALID" as const, message: "not JSON" },
      raw,
    };
    expect(await recordRejectedReport(db, input)).toBe("recorded");
    expect(await recordRejectedReport(db, input)).toBe("duplicate");
    const rows = await listRejectedReports(db);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ messageId: null, streamSeq: 42, error: input.error });
    expect([...rows[0]!.raw]).toEqual([...raw]);
  });
});
