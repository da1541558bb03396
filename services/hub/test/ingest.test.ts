// Report ingest on the real NATS JetStream and both database engines (PG 15 and PGlite).
import { randomUUID } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, type JetStreamClient } from "@nats-io/jetstream";
import { sql } from "kysely";
import type { DriftReport, HeartbeatReport, Report, StatusReport } from "@flotilla/model";
import { createTestDatabase, createTestNats, type TestNats } from "@flotilla/testkit";
import { ingestReport, listRejectedReports, migrateToLatest, openDatabase, type FleetDatabase } from "@flotilla/store";
import { encodeJson, parseReport, reportSubject, wireNames, type WireNames } from "@flotilla/wire";
import { startIngest, type IngestHandle } from "../src/ingest.js";
import { ensureIngestConsumer, ensureReportStream, defaultReportStreamOptions } from "../src/ingest-stream.js";

const engines = [
  {
    name: "postgres",
    async open() {
      const testDb = await createTestDatabase("ingest");
      const fleet = await openDatabase({ url: testDb.url });
      return { fleet, drop: testDb.drop };
    },
  },
  { name: "pglite", open: async () => ({ fleet: await openDatabase({}), drop: async () => {} }) },
];

const CLUSTER = "prod-eu-1";
const header = (kind: Report["kind"]) => ({ id: randomUUID(), kind, cluster: CLUSTER, agent: `${CLUSTER}/agent-0/1`, at: new Date().toISOString() });
const status = (over: Partial<StatusReport> = {}): StatusReport => ({
  ...header("status"),
  kind: "status",
  generation: 1,
  revision: "1".repeat(40),
  bundleDigest: `sha256:${"a".repeat(64)}`,
  syncState: "Synced",
  health: "Healthy",
  apps: [],
  ...over,
});
const drift = (over: Partial<DriftReport> = {}): DriftReport => ({
  ...header("drift"),
  kind: "drift",
  generation: 1,
  revision: "1".repeat(40),
  app: "shop",
  object: { group: "apps", kind: "Deployment", namespace: "shop", name: "inventory-api" },
  paths: [{ path: "/spec/replicas", desired: 3, live: 5 }],
  actor: "kubectl-edit",
  policy: "warn",
  action: "left",
  ...over,
});
const heartbeat = (over: Partial<HeartbeatReport> = {}): HeartbeatReport => ({
  ...header("heartbeat"),
  kind: "heartbeat",
  generation: 1,
  deadlineSeconds: 30,
  ...over,
});

/** Polls a condition; fails with the last observed value on timeout. */
async function waitFor<T>(what: string, probe: () => Promise<T>, done: (v: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await probe();
  while (!done(last)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 50));
    last = await probe();
  }
  return last;
}

describe.each(engines)("report ingest on $name", (engine) => {
  let testNats: TestNats;
  let names: WireNames;
  let nc: NatsConnection;
  let js: JetStreamClient;
  let fleet: FleetDatabase;
  let drop: () => Promise<void>;
  let ingest: IngestHandle | undefined;

  beforeEach(async () => {
    testNats = createTestNats("ingest");
    names = wireNames(testNats.prefix);
    nc = await connect({ servers: testNats.url });
    js = jetstream(nc);
    ({ fleet, drop } = await engine.open());
    await migrateToLatest(fleet.db);
  });
  afterEach(async () => {
    await ingest?.stop();
    ingest = undefined;
    await nc.close();
    await testNats.cleanup();
    await fleet.close();
    await drop();
  });

  const publish = (r: Report, opts: { subjectCluster?: string; msgID?: string | null } = {}) =>
    js.publish(reportSubject(names, opts.subjectCluster ?? r.cluster, r.kind), encodeJson(r), opts.msgID === null ? {} : { msgID: opts.msgID ?? r.id });
  const count = async (table: "drift_events" | "cluster_status" | "heartbeats" | "rejected_reports" | "ingested_messages") =>
    Number((await sql<{ n: number }>`select count(*)::int as n from ${sql.table(table)}`.execute(fleet.db)).rows[0]!.n);
  const consumerState = async () => {
    const info = await (await jetstreamManager(nc)).consumers.info(names.reportStream, names.ingestConsumer);
    return { pending: info.num_pending, ackPending: info.num_ack_pending };
  };
  const drained = (s: { pending: number; ackPending: number }) => s.pending === 0 && s.ackPending === 0;

  it("creates the stream with a 2-minute duplicate window and ingests every kind of report", async () => {
    ingest = await startIngest({ nc, names, db: fleet.db });
    const info = await (await jetstreamManager(nc)).streams.info(names.reportStream);
    expect(info.config).toMatchObject({ subjects: [names.reportSubjects], duplicate_window: 120_000_000_000, storage: "file" });
    const consumer = await (await jetstreamManager(nc)).consumers.info(names.reportStream, names.ingestConsumer);
    expect(consumer.config).toMatchObject({ ack_policy: "explicit", max_deliver: -1, durable_name: names.ingestConsumer });

    await publish(status());
    await publish(drift());
    await publish(heartbeat());
    await waitFor("three reports ingested", async () => ingest!.counts.ingested, (n) => n === 3);
    expect([await count("cluster_status"), await count("drift_events"), await count("heartbeats")]).toEqual([1, 1, 1]);
    await waitFor("consumer drained", consumerState, drained);
  });

  it("writes a report once, whether JetStream or the database de-duplicates it", async () => {
    ingest = await startIngest({ nc, names, db: fleet.db });
    const r = drift();
    const acks = [await publish(r), await publish(r)];
    expect(acks.map((a) => a.duplicate)).toEqual([false, true]);
    // Without a Nats-Msg-Id JetStream stores both; the report id still makes it one row.
    const again = drift();
    await publish(again, { msgID: null });
    await publish(again, { msgID: null });
    await waitFor("both ids ingested and the copy skipped", async () => ({ ...ingest!.counts }), (c) => c.ingested === 2 && c.duplicate === 1);
    expect(await count("drift_events")).toBe(2);
    expect(await count("ingested_messages")).toBe(2);
  });

  it("keeps one row when a hub committed a report and died before its ack", async () => {
    const jsm = await jetstreamManager(nc);
    await ensureReportStream(jsm, names, defaultReportStreamOptions);
    await ensureIngestConsumer(jsm, names, { ackWaitMs: 1_000, maxAckPending: 16 });
    const r = drift();
    await publish(r);
    // The hub that crashed: took the message, committed it, never acked.
    const m = await (await js.consumers.get(names.reportStream, names.ingestConsumer)).next({ expires: 5_000 });
    expect(m).not.toBeNull();
    expect(await ingestReport(fleet.db, parseReport(JSON.parse(new TextDecoder().decode(m!.data))), { messageId: r.id, subject: m!.subject, streamSeq: m!.seq })).toBe("ingested");

    ingest = await startIngest({ nc, names, db: fleet.db, consumer: { ackWaitMs: 1_000 } });
    await waitFor("redelivery recognised as a duplicate", async () => ingest!.counts.duplicate, (n) => n === 1);
    expect(await count("drift_events")).toBe(1);
    await waitFor("consumer drained", consumerState, drained);
  });

  it("writes each report once when two hub replicas share the consumer", async () => {
    const second = await startIngest({ nc, names, db: fleet.db });
    try {
      ingest = await startIngest({ nc, names, db: fleet.db });
      const reports = Array.from({ length: 40 }, (_, i) =>
        i % 2 === 0 ? drift({ object: { group: "", kind: "ConfigMap", namespace: "shop", name: `cfg-${i}` } }) : heartbeat({ at: new Date(Date.now() + i).toISOString() }),
      );
      // Every report twice without a message id: JetStream keeps both copies, the database one.
      for (const r of reports) {
        await publish(r, { msgID: null });
        await publish(r, { msgID: null });
      }
      await waitFor("all copies handled by the two replicas", async () => ingest!.counts.ingested + ingest!.counts.duplicate + ingest!.counts.stale + second.counts.ingested + second.counts.duplicate + second.counts.stale, (n) => n === 80);
      expect(await count("ingested_messages")).toBe(40);
      expect(await count("drift_events")).toBe(20);
      await waitFor("consumer drained", consumerState, drained);
    } finally {
      await second.stop();
    }
  });

  it("acks only after commit: a failing database gets its reports redelivered, then stored", async () => {
    // A real database failure: every insert into ingested_messages raises until the trigger goes.
    await sql`create function flotilla_test_fail() returns trigger language plpgsql as $$ begin raise exception 'database is failing'; end $$`.execute(fleet.db);
    await sql`create trigger flotilla_test_fail before insert on ingested_messages for each row execute function flotilla_test_fail()`.execute(fleet.db);
    ingest = await startIngest({ nc, names, db: fleet.db, retryDelayMs: 100 });
    const reports = [status(), drift(), heartbeat()];
    for (const r of reports) await publish(r);

    await waitFor("every report retried at least twice", async () => ingest!.counts.retried, (n) => n >= 6);
    expect(await count("ingested_messages")).toBe(0);
    expect((await consumerState()).ackPending).toBeGreaterThan(0);

    await sql`drop trigger flotilla_test_fail on ingested_messages`.execute(fleet.db);
    await waitFor("all three stored after recovery", async () => ingest!.counts.ingested, (n) => n === 3);
    expect([await count("cluster_status"), await count("drift_events"), await count("heartbeats")]).toEqual([1, 1, 1]);
    await waitFor("consumer drained", consumerState, drained);
  });

  it("records malformed reports in rejected_reports with their raw bytes, and acks them", async () => {
    ingest = await startIngest({ nc, names, db: fleet.db });
    const garbage = new TextEncoder().encode("{not json");
    await js.publish(reportSubject(names, CLUSTER, "status"), garbage, { msgID: "garbage-1" });
    const noGeneration = { ...status(), generation: "seven" };
    await js.publish(reportSubject(names, CLUSTER, "status"), encodeJson(noGeneration));
    const badTime = drift({ at: "last tuesday" });
    await publish(badTime);

    await waitFor("three rejections", async () => ingest!.counts.rejected, (n) => n === 3);
    const rejected = (await listRejectedReports(fleet.db)).reverse();
    expect(rejected.map((r) => [r.messageId, r.error.code])).toEqual([
      ["garbage-1", "FLOTILLA_ERR_REPORT_INVALID"],
      [null, "FLOTILLA_ERR_REPORT_INVALID"],
      [badTime.id, "FLOTILLA_ERR_REPORT_INVALID"],
    ]);
    expect(rejected[0]!.raw).toEqual(garbage);
    expect(rejected[1]!.error.message).toContain('"generation"');
    expect(rejected[2]!.error.location).toEqual({ field: "at" });
    expect(await count("drift_events")).toBe(0);
    await waitFor("consumer drained", consumerState, drained);
  });

  it("writes a backlog in batches, and a bad report in a batch does not hold back the others", async () => {
    // Published before the hub starts consuming: it finds a backlog.
    const jsm = await jetstreamManager(nc);
    await ensureReportStream(jsm, names, defaultReportStreamOptions);
    await ensureIngestConsumer(jsm, names, { ackWaitMs: 30_000, maxAckPending: 256 });
    const good = Array.from({ length: 30 }, (_, i) => drift({ object: { group: "", kind: "ConfigMap", namespace: "shop", name: `cfg-${i}` } }));
    const badTime = drift({ at: "not a time" });
    for (const r of [...good.slice(0, 15), badTime, ...good.slice(15)]) await publish(r);
    await js.publish(reportSubject(names, CLUSTER, "drift"), new TextEncoder().encode("]"));
    ingest = await startIngest({ nc, names, db: fleet.db });
    await waitFor("backlog handled", async () => ({ ...ingest!.counts }), (c) => c.ingested === 30 && c.rejected === 2);
    expect(await count("drift_events")).toBe(30);
    expect((await listRejectedReports(fleet.db)).map((r) => r.error.location?.field ?? null).sort()).toEqual(["at", null]);
    await waitFor("consumer drained", consumerState, drained);
  });

  it("ignores status for an older generation", async () => {
    ingest = await startIngest({ nc, names, db: fleet.db });
    await publish(status({ generation: 5, syncState: "Applying" }));
    await publish(status({ generation: 4, syncState: "Synced" }));
    await waitFor("both handled", async () => ({ ...ingest!.counts }), (c) => c.ingested === 1 && c.stale === 1);
    const row = await fleet.db.selectFrom("cluster_status").select(["generation", "sync_state"]).executeTakeFirstOrThrow();
    expect(row).toEqual({ generation: 5, sync_state: "Applying" });
  });

  it("rejects a report for another cluster than its subject's", async () => {
    ingest = await startIngest({ nc, names, db: fleet.db });
    const impostor = status({ cluster: "prod-us-1" });
    await publish(impostor, { subjectCluster: CLUSTER });
    await waitFor("rejected", async () => ingest!.counts.rejected, (n) => n === 1);
    const [rejected] = await listRejectedReports(fleet.db);
    expect(rejected!.error).toMatchObject({ code: "FLOTILLA_ERR_FORBIDDEN", location: { field: "cluster" } });
    expect(rejected!.error.message).toContain("prod-us-1");
    expect(await count("cluster_status")).toBe(0);
  });
});
