// Bad-input property test of report ingest (docs/bad-input.md), on the real NATS JetStream and
// PostgreSQL 15: seeded mutations of valid reports (malformed JSON, wrong types, unknown fields,
// huge strings, NUL bytes, deep nesting), an oversize report, a report for another cluster than
// its subject's, replays and out-of-order reports. Every bad one is rejected with a stable code
// (kept in rejected_reports, logged with its subject, counted), ingest never stalls, and every good
// report published after them is stored exactly once.
import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, type JetStreamClient } from "@nats-io/jetstream";
import { sql } from "kysely";
import type { Report } from "@flotilla/model";
import { createTestDatabase, createTestNats, waitFor, type TestNats } from "@flotilla/testkit";
import { forEachSeed, mutateText, mutateValue } from "@flotilla/testkit/mutate";
import { listRejectedReports, migrateToLatest, openDatabase, type FleetDatabase } from "@flotilla/store";
import { encodeJson, reportSubject, wireNames, type WireNames } from "@flotilla/wire";
import { startIngest, type IngestHandle } from "../src/ingest.js";

const CLUSTER = "prod-eu-1";
const MAX_REPORT_BYTES = 64 * 1024;
const head = (kind: Report["kind"]) => ({ id: randomUUID(), kind, cluster: CLUSTER, agent: `${CLUSTER}/agent-0/1`, at: "2026-12-07T07:00:00.000Z" });
const templates: Record<Report["kind"], () => Report> = {
  status: () => ({
    ...head("status"),
    kind: "status",
    generation: 3,
    revision: "1".repeat(40),
    bundleDigest: `sha256:${"a".repeat(64)}`,
    syncState: "Synced",
    health: "Healthy",
    apps: [
      {
        name: "shop",
        health: "Healthy",
        objects: [{ ref: { group: "apps", kind: "Deployment", namespace: "shop", name: "web" }, action: "unchanged", reason: "", health: "Healthy", images: ["r/web@sha256:" + "b".repeat(64)] }],
      },
    ],
    lastError: { code: "FLOTILLA_ERR_APPLY_FAILED", message: "x", location: { field: "spec" } },
  }),
  drift: () => ({
    ...head("drift"),
    kind: "drift",
    generation: 3,
    revision: "1".repeat(40),
    app: "shop",
    object: { group: "apps", kind: "Deployment", namespace: "shop", name: "web" },
    paths: [{ path: "/spec/replicas", desired: 3, live: { nested: [5] } }],
    actor: "kubectl-edit",
    changedAt: "2026-12-07T06:59:00.000Z",
    policy: "warn",
    action: "left",
  }),
  heartbeat: () => ({ ...head("heartbeat"), kind: "heartbeat", generation: 3, deadlineSeconds: 30 }),
};
const KINDS = ["status", "drift", "heartbeat"] as const;

describe("report ingest under bad input (real NATS + PostgreSQL)", () => {
  let testNats: TestNats;
  let names: WireNames;
  let nc: NatsConnection;
  let js: JetStreamClient;
  let fleet: FleetDatabase;
  let drop: () => Promise<void>;
  let ingest: IngestHandle;
  const warnings: { obj: Record<string, unknown>; msg: string }[] = [];
  const errors: { obj: object; msg: string }[] = [];

  beforeAll(async () => {
    testNats = createTestNats("ingestfuzz");
    names = wireNames(testNats.prefix);
    nc = await connect({ servers: testNats.url });
    js = jetstream(nc);
    const testDb = await createTestDatabase("ingest_fuzz");
    drop = testDb.drop;
    fleet = await openDatabase({ url: testDb.url });
    await migrateToLatest(fleet.db);
    const logger = {
      info() {},
      warn: (obj: object, msg: string) => warnings.push({ obj: obj as Record<string, unknown>, msg }),
      error: (obj: object, msg: string) => errors.push({ obj, msg }),
    };
    ingest = await startIngest({ nc, names, db: fleet.db, logger, maxReportBytes: MAX_REPORT_BYTES, retryDelayMs: 200 });
  });
  afterAll(async () => {
    await ingest?.stop();
    await nc?.close();
    await testNats?.cleanup();
    await fleet?.close();
    await drop?.();
  });

  const handled = () => ingest.counts.ingested + ingest.counts.duplicate + ingest.counts.stale + ingest.counts.rejected;
  const drained = async () => {
    const info = await (await jetstreamManager(nc)).consumers.info(names.reportStream, names.ingestConsumer);
    return info.num_pending === 0 && info.num_ack_pending === 0;
  };
  const count = async (q: ReturnType<typeof sql<{ n: number }>>) => Number((await q.execute(fleet.db)).rows[0]!.n);

  it("rejects every bad report with a reason, never stalls, and stores every good one after them exactly once", async () => {
    let published = 0;
    const send = async (subject: string, data: Uint8Array, msgID: string) => {
      await js.publish(subject, data, { msgID });
      published++;
    };

    // 300 seeded mutations: structural (a JSON value) and textual (broken JSON bytes).
    await forEachSeed(300, async (rng) => {
      const kind = rng.pick(KINDS);
      const base = templates[kind]();
      const subject = reportSubject(names, CLUSTER, kind);
      if (rng.int(4) === 0) {
        const m = mutateText(JSON.stringify(base), rng);
        await send(subject, new TextEncoder().encode(m.text), `fuzz-text-${rng.seed}`);
      } else {
        const m = mutateValue(base, rng, { hugeBytes: 20_000 });
        await send(subject, m.value === undefined ? new Uint8Array() : encodeJson(m.value), `fuzz-value-${rng.seed}`);
      }
    });

    // Hand-picked cases the mutations rarely hit.
    const oversize = { ...templates.drift(), actor: "x".repeat(MAX_REPORT_BYTES + 1) };
    await send(reportSubject(names, CLUSTER, "drift"), encodeJson(oversize), "oversize");
    const impostor = { ...templates.status(), cluster: "prod-us-1" };
    await send(reportSubject(names, CLUSTER, "status"), encodeJson(impostor), "impostor");
    // A replay past JetStream's de-duplication (another Nats-Msg-Id): the report id makes it one row.
    const replayed = { ...templates.drift(), object: { group: "", kind: "ConfigMap", namespace: "shop", name: "replayed" } };
    await send(reportSubject(names, CLUSTER, "drift"), encodeJson(replayed), "replay-1");
    await send(reportSubject(names, CLUSTER, "drift"), encodeJson(replayed), "replay-2");
    // Out of order: generation 9, then an older generation 8 that must not overwrite it.
    const newer = { ...templates.status(), generation: 9, syncState: "Applying" };
    const older = { ...templates.status(), generation: 8, syncState: "Synced" };
    await send(reportSubject(names, "fuzz-order", "status"), encodeJson({ ...newer, cluster: "fuzz-order" }), "order-9");
    await send(reportSubject(names, "fuzz-order", "status"), encodeJson({ ...older, cluster: "fuzz-order" }), "order-8");

    // The good reports after all of that: each must be stored exactly once.
    const good = Array.from({ length: 20 }, (_, i) => ({ ...templates.drift(), object: { group: "", kind: "ConfigMap", namespace: "good", name: `cfg-${i}` } }));
    for (const r of good) await send(reportSubject(names, CLUSTER, "drift"), encodeJson(r), r.id);
    const goodHeartbeat = { ...templates.heartbeat(), cluster: "fuzz-good", generation: 42 };
    await send(reportSubject(names, "fuzz-good", "heartbeat"), encodeJson(goodHeartbeat), goodHeartbeat.id);

    await waitFor(async () => handled() === published && (await drained()), {
      what: `all ${published} reports handled and acked (counts ${JSON.stringify(ingest.counts)}, errors ${JSON.stringify(errors)})`,
      timeoutMs: 60_000,
    });
    // Nothing was handed back for redelivery: every bad report is refused once, not retried forever.
    expect(ingest.counts.retried, JSON.stringify(errors)).toBe(0);
    expect(errors).toEqual([]);

    // Good reports after the bad ones: exactly once each.
    const goodRows = await count(sql<{ n: number }>`select count(*)::int as n from drift_events where namespace = 'good'`);
    expect(goodRows).toBe(20);
    const distinctGood = await count(sql<{ n: number }>`select count(distinct name)::int as n from drift_events where namespace = 'good'`);
    expect(distinctGood).toBe(20);
    expect(await count(sql<{ n: number }>`select count(*)::int as n from heartbeats where cluster = 'fuzz-good'`)).toBe(1);
    // The replay is one row; the older status did not overwrite the newer.
    expect(await count(sql<{ n: number }>`select count(*)::int as n from drift_events where name = 'replayed'`)).toBe(1);
    const order = await fleet.db.selectFrom("cluster_status").select(["generation", "sync_state"]).where("cluster", "=", "fuzz-order").executeTakeFirstOrThrow();
    expect(order).toEqual({ generation: 9, sync_state: "Applying" });

    // Every rejection is inspectable: one row per rejected message, with a stable code and a message,
    // logged with the subject; schema violations name the field.
    const rejected = await listRejectedReports(fleet.db, 10_000);
    expect(rejected.length).toBe(ingest.counts.rejected);
    expect(warnings.filter((w) => w.msg === "report rejected").length).toBe(ingest.counts.rejected);
    for (const w of warnings) expect(typeof w.obj.subject, JSON.stringify(w.obj)).toBe("string");
    for (const r of rejected) {
      const what = `${r.messageId}: ${JSON.stringify(r.error).slice(0, 300)}`;
      expect(r.error.code, what).toMatch(/^FLOTILLA_ERR_(REPORT_INVALID|FORBIDDEN)$/);
      expect(r.error.message.length, what).toBeGreaterThan(0);
      // A raw database message is no reason a user can act on.
      expect(r.error.message, what).not.toMatch(/syntax for type|out of range for type|unsupported Unicode|violates/);
      if (/^invalid report: field/.test(r.error.message)) expect(r.error.location?.field, what).toBeTruthy();
    }
    const byId = new Map(rejected.map((r) => [r.messageId, r]));
    expect(byId.get("oversize")?.error.message).toMatch(new RegExp(`exceeds the limit of ${MAX_REPORT_BYTES} bytes`));
    expect(byId.get("impostor")?.error).toMatchObject({ code: "FLOTILLA_ERR_FORBIDDEN", location: { field: "cluster" } });
    // Most mutations are refused; the printed figure says how many.
    console.log(`ingest fuzz: ${published} published, counts ${JSON.stringify(ingest.counts)}`);
    expect(ingest.counts.rejected).toBeGreaterThan(150);
  });
});
