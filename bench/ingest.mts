// B5, report ingest at fleet scale: agent reports (libs/model's Report, as the cluster agent's
// NatsReporter publishes them: JSON on <prefix>.report.<cluster>.<kind>, Nats-Msg-Id = report id)
// for N cluster identities, published onto the real NATS JetStream as fast as the hub's ingest
// (startIngest, the hub's own code) takes them into a fresh real Postgres database. Next to it, in
// the same run, a raw ceiling: the same rows written with plain batched INSERT … ON CONFLICT over
// pg into the same tables (no NATS, no parsing, no per-report logic).
//
//   node --conditions=@flotilla/source --import tsx bench/ingest.mts
//     [--clusters 1000] [--seconds 15] [--paced-seconds 10] [--window 8192] [--mix 5:4:1]
//     [--objects 3] [--ceiling-batch 500]
//
// The publisher runs in a child process (its own event loop and core). Two phases:
// - saturated: the publisher keeps up to --window reports published but not yet ingested; the
//   sustained rate is what the ingest takes;
// - paced: an open-loop rate (the goal, or 80 % of the saturated rate if that is lower), where
//   the latency is the ingest's own and not the bench's queue.
// Latency per report: the time JetStream stored it (the stream timestamp, in the ack subject) →
// the time the hub's ack for it was seen on NATS. The hub acks only after the transaction that
// wrote the report committed, so this is an upper bound of publish → committed (row visible).
//
// Goals (issue "Fleet at scale", B5): ≥ 40,000 reports/s sustained, p99 ≤ 250 ms.
import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { connect } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import pg from "pg";
import { sql } from "kysely";
import type { Report } from "@flotilla/model";
import { startIngest } from "@flotilla/hub";
import { migrateToLatest, openDatabase } from "@flotilla/store";
import { createTestDatabase, createTestNats } from "@flotilla/testkit";
import { encodeJson, reportSubject, wireNames, type WireNames } from "@flotilla/wire";
import { Cleanup } from "./lib/cleanup.mts";
import { parseMix, ReportGenerator } from "./lib/reports.mts";
import { figure, formatSummary, heading, summarize } from "./lib/stats.mts";

const { values } = parseArgs({
  options: {
    clusters: { type: "string", default: "1000" },
    seconds: { type: "string", default: "15" },
    "paced-seconds": { type: "string", default: "10" },
    window: { type: "string", default: "8192" },
    mix: { type: "string", default: "5:4:1" },
    objects: { type: "string", default: "3" },
    "ceiling-batch": { type: "string", default: "500" },
    // Internal: the child process that publishes.
    publisher: { type: "string" },
  },
});
const N = Number(values.clusters);
const MIX = parseMix(values.mix);
const OBJECTS = Number(values.objects);
const GOAL_RATE = 40_000;
const GOAL_P99_MS = 250;
/** JetStream publishes awaiting their PubAck at most, in the publisher. */
const PUB_INFLIGHT = 2_048;
const now = (): number => performance.timeOrigin + performance.now();

type Phase = { phase: "saturate"; window: number; seconds: number } | { phase: "paced"; rate: number; seconds: number };
type ToChild = Phase | { acked: number } | { exit: true };
type FromChild = { ready: true } | { phaseDone: true; published: number; errors: number; seconds: number };

// ---------------------------------------------------------------- publisher (child process)

async function publisher(prefix: string): Promise<void> {
  const names = wireNames(prefix);
  const nc = await connect({ servers: process.env.NATS_URL ?? "nats://127.0.0.1:4222" });
  const js = jetstream(nc);
  const gen = new ReportGenerator(N, MIX, OBJECTS);
  let acked = 0;
  let published = 0;
  let inflight = 0;
  let errors = 0;
  let pump: () => void = () => {};
  const send = (m: FromChild) => process.send!(m);
  const publishOne = () => {
    const r: Report = gen.next();
    inflight++;
    published++;
    js.publish(reportSubject(names, r.cluster, r.kind), encodeJson(r), { msgID: r.id, timeout: 30_000 }).then(
      () => {
        inflight--;
        pump();
      },
      () => {
        inflight--;
        errors++;
        pump();
      },
    );
  };
  const runPhase = (m: Phase): Promise<void> =>
    new Promise((resolve) => {
      const start = now();
      const end = start + m.seconds * 1000;
      const startPublished = published;
      const finish = () => {
        clearInterval(timer);
        pump = () => {};
        const drain = setInterval(() => {
          if (inflight > 0) return;
          clearInterval(drain);
          send({ phaseDone: true, published: published - startPublished, errors, seconds: (now() - start) / 1000 });
          resolve();
        }, 5);
      };
      pump = () => {
        const t = now();
        if (t >= end) return finish();
        if (m.phase === "saturate") {
          while (inflight < PUB_INFLIGHT && published - acked < m.window) publishOne();
        } else {
          const due = Math.floor(((t - start) / 1000) * m.rate) - (published - startPublished);
          for (let i = 0; i < due && inflight < PUB_INFLIGHT; i++) publishOne();
        }
      };
      const timer = setInterval(() => pump(), 2);
      pump();
    });
  process.on("message", (m: ToChild) => {
    if ("acked" in m) {
      acked = m.acked;
      pump();
    } else if ("exit" in m) {
      void nc.close().then(() => process.exit(0));
    } else {
      void runPhase(m);
    }
  });
  send({ ready: true });
}

// ---------------------------------------------------------------- raw ceiling

/** The same rows as the ingest writes, with one multi-row statement per table per batch. */
async function rawCeiling(url: string, reports: Report[], batch: number): Promise<{ seconds: number; batchMs: number[] }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const batchMs: number[] = [];
  const started = now();
  try {
    for (let i = 0; i < reports.length; i += batch) {
      const t0 = now();
      const slice = reports.slice(i, i + batch);
      const last = <T extends Report>(rs: T[]): T[] => [...new Map(rs.map((r) => [r.cluster, r])).values()];
      const hbs = last(slice.filter((r) => r.kind === "heartbeat"));
      const sts = last(slice.filter((r) => r.kind === "status"));
      const drifts = slice.filter((r) => r.kind === "drift");
      const apps = sts.flatMap((s) => s.apps.map((a) => ({ s, a })));
      const objects = apps.flatMap(({ s, a }) => a.objects.map((o) => ({ s, a, o })));
      await client.query("BEGIN");
      await client.query(
        `INSERT INTO ingested_messages (message_id, subject, stream_seq) SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[]) ON CONFLICT (message_id) DO NOTHING`,
        [slice.map((r) => r.id), slice.map((r) => `bench.report.${r.cluster}.${r.kind}`), slice.map((_, k) => i + k + 1)],
      );
      await client.query(
        `INSERT INTO heartbeats (cluster, agent, at, generation, deadline_seconds)
         SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::bigint[], $5::float8[])
         ON CONFLICT (cluster) DO UPDATE SET agent = excluded.agent, at = excluded.at, generation = excluded.generation, deadline_seconds = excluded.deadline_seconds
         WHERE heartbeats.at < excluded.at`,
        [hbs.map((r) => r.cluster), hbs.map((r) => r.agent), hbs.map((r) => r.at), hbs.map((r) => r.generation), hbs.map((r) => r.deadlineSeconds)],
      );
      await client.query(
        `INSERT INTO cluster_status (cluster, generation, revision, bundle_digest, observed_revision, sync_state, health, last_error, reported_at, agent)
         SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::jsonb[], $9::timestamptz[], $10::text[])
         ON CONFLICT (cluster) DO UPDATE SET generation = excluded.generation, revision = excluded.revision, bundle_digest = excluded.bundle_digest,
           observed_revision = excluded.observed_revision, sync_state = excluded.sync_state, health = excluded.health, last_error = excluded.last_error,
           reported_at = excluded.reported_at, agent = excluded.agent
         WHERE cluster_status.generation < excluded.generation OR (cluster_status.generation = excluded.generation AND cluster_status.reported_at <= excluded.reported_at)`,
        [
          sts.map((r) => r.cluster),
          sts.map((r) => r.generation),
          sts.map((r) => r.revision),
          sts.map((r) => r.bundleDigest),
          sts.map((r) => r.observedRevision ?? null),
          sts.map((r) => r.syncState),
          sts.map((r) => r.health),
          sts.map((r) => (r.lastError ? JSON.stringify(r.lastError) : null)),
          sts.map((r) => r.at),
          sts.map((r) => r.agent),
        ],
      );
      const statusClusters = sts.map((r) => r.cluster);
      await client.query(`DELETE FROM app_status WHERE cluster = ANY($1::text[])`, [statusClusters]);
      await client.query(`DELETE FROM object_status WHERE cluster = ANY($1::text[])`, [statusClusters]);
      await client.query(
        `INSERT INTO app_status (cluster, app, health, generation, updated_at) SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::timestamptz[])`,
        [apps.map(({ s }) => s.cluster), apps.map(({ a }) => a.name), apps.map(({ a }) => a.health), apps.map(({ s }) => s.generation), apps.map(({ s }) => s.at)],
      );
      await client.query(
        `INSERT INTO object_status (cluster, app, "group", kind, namespace, name, action, reason, message, health, health_reason, images, generation, updated_at)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::jsonb[], $13::bigint[], $14::timestamptz[])`,
        [
          objects.map(({ s }) => s.cluster),
          objects.map(({ a }) => a.name),
          objects.map(({ o }) => o.ref.group),
          objects.map(({ o }) => o.ref.kind),
          objects.map(({ o }) => o.ref.namespace),
          objects.map(({ o }) => o.ref.name),
          objects.map(({ o }) => o.action),
          objects.map(({ o }) => o.reason),
          objects.map(({ o }) => o.message ?? null),
          objects.map(({ o }) => o.health),
          objects.map(({ o }) => o.healthReason ?? null),
          objects.map(({ o }) => JSON.stringify(o.images ?? [])),
          objects.map(({ s }) => s.generation),
          objects.map(({ s }) => s.at),
        ],
      );
      await client.query(
        `INSERT INTO drift_events (id, cluster, app, generation, revision, "group", kind, namespace, name, paths, actor, changed_at, detected_at, policy, action, agent, resolved_at)
         SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::jsonb[], $11::text[], $12::timestamptz[], $13::timestamptz[], $14::text[], $15::text[], $16::text[], $17::timestamptz[])
         ON CONFLICT (id) DO NOTHING`,
        [
          drifts.map((r) => r.id),
          drifts.map((r) => r.cluster),
          drifts.map((r) => r.app),
          drifts.map((r) => r.generation),
          drifts.map((r) => r.revision),
          drifts.map((r) => r.object.group),
          drifts.map((r) => r.object.kind),
          drifts.map((r) => r.object.namespace),
          drifts.map((r) => r.object.name),
          drifts.map((r) => JSON.stringify(r.paths)),
          drifts.map((r) => r.actor),
          drifts.map((r) => r.changedAt ?? null),
          drifts.map((r) => r.at),
          drifts.map((r) => r.policy),
          drifts.map((r) => r.action),
          drifts.map((r) => r.agent),
          drifts.map((r) => (r.action === "reverted" ? r.at : null)),
        ],
      );
      await client.query("COMMIT");
      batchMs.push(now() - t0);
    }
  } finally {
    await client.end();
  }
  return { seconds: (now() - started) / 1000, batchMs };
}

// ---------------------------------------------------------------- parent: hub ingest + measurement

async function main(cleanup: Cleanup): Promise<void> {
  const testDb = await createTestDatabase("benchingest");
  cleanup.add("database", () => testDb.drop());
  const fleet = await openDatabase({ url: testDb.url });
  cleanup.add("database pool", () => fleet.close());
  await migrateToLatest(fleet.db);
  const nats = createTestNats("benchingest");
  cleanup.add("nats streams", () => nats.cleanup());
  const names: WireNames = wireNames(nats.prefix);

  // The hub's ingest, on its own connection, exactly as startHub() starts it.
  const hubNc = await connect({ servers: nats.url });
  cleanup.add("hub nats connection", () => hubNc.close());
  const ingest = await startIngest({ nc: hubNc, names, db: fleet.db });
  cleanup.add("ingest", () => ingest.stop());

  // The hub's acks, seen on NATS: `$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.<cseq>.<tm>.<pending>`
  // (or the 2.10+ form with domain and account hash in front).
  const sniffNc = await connect({ servers: nats.url });
  cleanup.add("ack sniffer connection", () => sniffNc.close());
  const seen = new Set<number>();
  let samples: number[] = [];
  let firstStored = Infinity;
  let lastAck = 0;
  const onAck = (subject: string, data: Uint8Array) => {
    if (data.length > 0 && !(data[0] === 0x2b && data[1] === 0x41)) return; // "+ACK" or empty only
    const t = subject.split(".");
    const base = t.length === 9 ? 2 : t.length >= 11 ? 4 : -1;
    if (base < 0 || t[base] !== names.reportStream) return;
    const sseq = Number(t[base + 3]);
    if (seen.has(sseq)) return;
    seen.add(sseq);
    const at = now();
    const stored = Number(t[base + 5]) / 1e6;
    firstStored = Math.min(firstStored, stored);
    lastAck = at;
    samples.push(at - stored);
  };
  for (const subject of [`$JS.ACK.${names.reportStream}.>`, `$JS.ACK.*.*.${names.reportStream}.>`]) {
    sniffNc.subscribe(subject, { callback: (err, m) => void (err || onAck(m.subject, m.data)) });
  }
  await sniffNc.flush();

  const child: ChildProcess = fork(fileURLToPath(import.meta.url), [...process.argv.slice(2), "--publisher", nats.prefix], { stdio: "inherit" });
  cleanup.add("publisher process", () => {
    if (child.exitCode === null) child.kill("SIGKILL");
  });
  const childExit = new Promise<never>((_, reject) =>
    child.once("exit", (code, signal) => reject(new Error(`publisher exited (${signal ?? code}) before the bench ended`))),
  );
  childExit.catch(() => {});
  const fromChild = (pred: (m: FromChild) => boolean): Promise<FromChild> =>
    Promise.race([
      childExit,
      new Promise<FromChild>((resolve) => {
        const on = (m: FromChild) => {
          if (!pred(m)) return;
          child.off("message", on);
          resolve(m);
        };
        child.on("message", on);
      }),
    ]);
  await fromChild((m) => "ready" in m);
  const feedback = setInterval(() => child.connected && child.send({ acked: seen.size } satisfies ToChild), 10);
  cleanup.add("feedback timer", () => clearInterval(feedback));

  let totalPublished = 0;
  const runPhase = async (msg: Phase) => {
    samples = [];
    firstStored = Infinity;
    const before = seen.size;
    child.send(msg);
    const done = (await fromChild((m) => "phaseDone" in m)) as Extract<FromChild, { phaseDone: true }>;
    totalPublished += done.published;
    // Wait until every published report was ingested and acked.
    const deadline = now() + 120_000;
    while (seen.size < totalPublished) {
      if (now() > deadline) throw new Error(`only ${seen.size - before} of ${done.published} reports acked by the ingest 120 s after publishing ended`);
      await new Promise((r) => setTimeout(r, 20));
    }
    const n = seen.size - before;
    const seconds = (lastAck - firstStored) / 1000;
    return { n, seconds, rate: n / seconds, latency: summarize(samples), errors: done.errors, publishSeconds: done.seconds };
  };

  const pct = (k: keyof typeof MIX) => Math.round((100 * MIX[k]) / (MIX.heartbeat + MIX.status + MIX.drift));
  console.log(
    `bench/ingest: ${N} clusters; reports heartbeat ${pct("heartbeat")} % / status ${pct("status")} % (1 app × ${OBJECTS} objects) / drift ${pct("drift")} %; ` +
      `real NATS at ${nats.url}, Postgres database ${testDb.name}`,
  );

  heading(`saturated: up to ${values.window} reports published and not yet ingested, ${values.seconds} s`);
  const sat = await runPhase({ phase: "saturate", window: Number(values.window), seconds: Number(values.seconds) });
  figure("reports ingested", `${sat.n} in ${sat.seconds.toFixed(2)} s (first stored → last acked)${sat.errors ? `, ${sat.errors} publish errors` : ""}`);
  figure("sustained ingest rate", `${Math.round(sat.rate)} reports/s`);
  figure("latency stored → committed + acked", formatSummary(sat.latency));

  const pacedRate = Math.max(100, Math.round(Math.min(GOAL_RATE, 0.8 * sat.rate)));
  heading(`paced: ${pacedRate} reports/s open loop (the goal, or 80 % of the saturated rate), ${values["paced-seconds"]} s`);
  const paced = await runPhase({ phase: "paced", rate: pacedRate, seconds: Number(values["paced-seconds"]) });
  figure("reports ingested", `${paced.n} in ${paced.seconds.toFixed(2)} s → ${Math.round(paced.rate)} reports/s${paced.errors ? `, ${paced.errors} publish errors` : ""}`);
  figure("latency stored → committed + acked", formatSummary(paced.latency));

  // What the database holds: every report exactly once.
  const rows = await sql<{ n: string }>`select count(*)::text as n from ingested_messages`.execute(fleet.db);
  const c = ingest.counts;
  figure("ingested_messages rows / reports published", `${rows.rows[0]!.n} / ${totalPublished}`);
  figure("ingest outcomes", `ingested ${c.ingested}, stale ${c.stale}, duplicate ${c.duplicate}, rejected ${c.rejected}, retried ${c.retried}`);
  child.send({ exit: true } satisfies ToChild);

  // The ceiling: the same rows (same generator, same order) into a second fresh database.
  const ceilingDb = await createTestDatabase("benchingestraw");
  cleanup.add("ceiling database", () => ceilingDb.drop());
  const ceilingFleet = await openDatabase({ url: ceilingDb.url });
  await migrateToLatest(ceilingFleet.db);
  await ceilingFleet.close();
  const gen = new ReportGenerator(N, MIX, OBJECTS);
  const reports = Array.from({ length: sat.n }, () => gen.next());
  const batch = Number(values["ceiling-batch"]);
  heading(`raw ceiling: the saturated phase's ${sat.n} reports, batches of ${batch}, one pg connection, INSERT … SELECT unnest(…) ON CONFLICT`);
  const raw = await rawCeiling(ceilingDb.url, reports, batch);
  const rawRate = reports.length / raw.seconds;
  figure("raw batched upsert rate", `${Math.round(rawRate)} reports/s (${raw.seconds.toFixed(2)} s)`);
  figure("one batch (transaction) of " + batch, formatSummary(summarize(raw.batchMs)));

  heading("goals (B5)");
  figure(`sustained ≥ ${GOAL_RATE} reports/s`, `${Math.round(sat.rate)} reports/s — ${sat.rate >= GOAL_RATE ? "met" : "NOT met"} (raw ceiling ${Math.round(rawRate)}, ingest at ${Math.round((100 * sat.rate) / rawRate)} % of it)`);
  figure(`p99 ≤ ${GOAL_P99_MS} ms (paced at ${pacedRate}/s)`, `${Math.round(paced.latency.p99)} ms — ${paced.latency.p99 <= GOAL_P99_MS && pacedRate >= GOAL_RATE ? "met" : "NOT met"}${pacedRate < GOAL_RATE ? ` (only at ${pacedRate}/s, below the goal rate)` : ""}`);
  if (Number(rows.rows[0]!.n) !== totalPublished || c.rejected || c.retried) {
    throw new Error(`ingest lost or refused reports: ${rows.rows[0]!.n} rows for ${totalPublished} published, ${c.rejected} rejected, ${c.retried} retried`);
  }
}

if (values.publisher) {
  await publisher(values.publisher);
} else {
  const cleanup = new Cleanup();
  try {
    await main(cleanup);
  } catch (err) {
    console.error(`[bench] ${(err as Error).stack ?? String(err)}`);
    process.exitCode = 1;
  } finally {
    await cleanup.run();
  }
}
