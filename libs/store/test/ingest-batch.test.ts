// The batched write (ingestReports: a few multi-row statements per batch) must leave exactly the
// rows, and give exactly the outcomes, of writing the same reports one by one in order
// (ingestReport). Seeded random sequences over few clusters and objects, so reports of one
// cluster interleave, repeat, arrive late and out of order, duplicates included.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Report } from "@flotilla/model";
import { ingestReport, ingestReports, type FleetDatabase, type IngestOutcome } from "../src/index.js";
import { engines } from "./engines.js";
import { driftReport, heartbeatReport, metaOf, statusReport } from "./reports.js";

/** Small deterministic PRNG (mulberry32). */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function sequence(seed: number, length: number): Report[] {
  const rnd = random(seed);
  const pick = <T,>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const t0 = Date.parse("2026-12-01T00:00:00Z");
  const at = () => new Date(t0 + Math.floor(rnd() * 20) * 1000).toISOString();
  const clusters = ["c-a", "c-b", "c-c"];
  const objects = [
    { group: "apps", kind: "Deployment", namespace: "shop", name: "api" },
    { group: "", kind: "ConfigMap", namespace: "shop", name: "cfg" },
  ];
  const out: Report[] = [];
  for (let i = 0; i < length; i++) {
    const cluster = pick(clusters);
    const base = { cluster, agent: `${cluster}/agent/1`, at: at(), generation: 1 + Math.floor(rnd() * 3) };
    const roll = rnd();
    if (out.length > 0 && roll < 0.1) {
      out.push(pick(out)); // a redelivery
    } else if (roll < 0.45) {
      out.push(
        statusReport({
          ...base,
          syncState: pick(["Synced", "Synced", "Applying", "Failed"] as const),
          apps: rnd() < 0.2 ? [] : [{ name: pick(["shop", "web"]), health: "Healthy", objects: rnd() < 0.5 ? [] : [{ ref: pick(objects), action: "configured", reason: "Applied", health: "Healthy" }] }],
        }),
      );
    } else if (roll < 0.75) {
      const reverted = rnd() < 0.4;
      out.push(driftReport({ ...base, object: pick(objects), action: reverted ? "reverted" : "left", policy: reverted ? "enforce" : "warn" }));
    } else {
      out.push(heartbeatReport(base));
    }
  }
  return out;
}

async function dump(fleet: FleetDatabase) {
  const { db } = fleet;
  return {
    status: await db.selectFrom("cluster_status").selectAll().orderBy("cluster").execute(),
    apps: await db.selectFrom("app_status").selectAll().orderBy("cluster").orderBy("app").execute(),
    objects: await db.selectFrom("object_status").selectAll().orderBy("cluster").orderBy("kind").orderBy("name").execute(),
    drift: await db.selectFrom("drift_events").selectAll().orderBy("id").execute(),
    heartbeats: await db.selectFrom("heartbeats").selectAll().orderBy("cluster").execute(),
    messages: (await db.selectFrom("ingested_messages").select(["message_id", "stream_seq"]).orderBy("message_id").execute()),
  };
}

describe.each(engines)("batched ingest on $name", (engine) => {
  let one: FleetDatabase;
  let batched: FleetDatabase;
  let cleanups: (() => Promise<void>)[] = [];
  beforeEach(async () => {
    const a = await engine.open("batchone");
    const b = await engine.open("batchmany");
    one = a.fleet;
    batched = b.fleet;
    cleanups = [a.cleanup, b.cleanup];
  });
  afterEach(async () => {
    for (const c of cleanups) await c();
  });

  // PGlite is ~7× slower per statement: fewer seeds there (the SQL is the same).
  it.each(Array.from({ length: engine.name === "postgres" ? 40 : 6 }, (_, i) => i + 1))("writes the rows and outcomes of one-by-one ingest (seed %i)", async (seed) => {
    const reports = sequence(seed, 120);
    const items = reports.map((report) => ({ report, meta: metaOf(report) }));
    const expected: IngestOutcome[] = [];
    for (const { report, meta } of items) expected.push(await ingestReport(one.db, report, meta));
    // Batches of varying size, the way a backlog arrives.
    const rnd = random(seed * 7919);
    const outcomes: IngestOutcome[] = [];
    for (let i = 0; i < items.length; ) {
      const n = 1 + Math.floor(rnd() * 40);
      outcomes.push(...(await ingestReports(batched.db, items.slice(i, i + n))));
      i += n;
    }
    expect(outcomes).toEqual(expected);
    expect(await dump(batched)).toEqual(await dump(one));
  });
});
