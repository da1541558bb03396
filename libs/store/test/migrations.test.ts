import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { createTestDatabase } from "@flotilla/testkit";
import { migrateToLatest, migrations, openDatabase, type FleetDatabase } from "../src/index.js";
import { engines } from "./engines.js";

describe.each(engines)("migrations on $name", (engine) => {
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await cleanup?.();
    cleanup = undefined;
  });

  it("creates every table, and a second run applies nothing", async () => {
    const opened = await engine.open("migrate");
    cleanup = opened.cleanup;
    const { db } = opened.fleet;
    const again = await migrateToLatest(db);
    expect(again.applied).toEqual([]);
    const tables = await db.introspection.getTables();
    expect(tables.map((t) => t.name).sort()).toEqual(
      expect.arrayContaining([
        "app_status",
        "cluster_status",
        "clusters",
        "current_desired_pointers",
        "desired_pointers",
        "drift_events",
        "heartbeats",
        "idempotency_keys",
        "ingested_messages",
        "object_status",
        "promotion_approvals",
        "promotion_clusters",
        "promotion_events",
        "promotion_holds",
        "promotions",
        "rejected_reports",
        "releases",
        "render_failures",
      ]),
    );
  });

  it("refuses a value outside the closed vocabulary", async () => {
    const opened = await engine.open("vocab");
    cleanup = opened.cleanup;
    const insert = (syncState: string) =>
      sql`insert into cluster_status (cluster, generation, revision, bundle_digest, sync_state, health, reported_at, agent)
          values ('c1', 1, 'r', 'd', ${syncState}, 'Healthy', now(), 'a')`.execute(opened.fleet.db);
    await expect(insert("Sinked")).rejects.toThrow(/cluster_status_sync_state/);
    await insert("Synced");
  });

  it("parses int8 as a JS number", async () => {
    const opened = await engine.open("int8");
    cleanup = opened.cleanup;
    const r = await sql<{ n: unknown }>`select 9007199254740991::bigint as n`.execute(opened.fleet.db);
    expect(r.rows[0]?.n).toBe(Number.MAX_SAFE_INTEGER);
  });
});

describe("migrations on postgres with several hubs", () => {
  const opened: FleetDatabase[] = [];
  let drop: (() => Promise<void>) | undefined;
  afterEach(async () => {
    for (const f of opened.splice(0)) await f.close();
    await drop?.();
  });

  it("apply once when several hubs start at the same time (advisory lock)", async () => {
    const testDb = await createTestDatabase("migrate_race");
    drop = testDb.drop;
    for (let i = 0; i < 3; i++) opened.push(await openDatabase({ url: testDb.url }));
    const outcomes = await Promise.all(opened.map((f) => migrateToLatest(f.db)));
    const applied = outcomes.flatMap((o) => o.applied);
    expect(applied.sort()).toEqual(Object.keys(migrations).sort());
  });
});

describe("openDatabase", () => {
  it.each(["postgres", "pglite"] as const)("close() closes a %s database even if it was never queried", async (engine) => {
    const testDb = engine === "postgres" ? await createTestDatabase("close") : undefined;
    try {
      const fleet = await openDatabase(testDb ? { url: testDb.url } : {});
      await fleet.close();
      await expect(sql`select 1`.execute(fleet.db)).rejects.toThrow();
    } finally {
      await testDb?.drop();
    }
  });

  it("refuses a URL that is not postgres://, naming DATABASE_URL", async () => {
    await expect(openDatabase({ url: "mysql://root:secret@db/x" })).rejects.toMatchObject({
      code: "FLOTILLA_ERR_CONFIG_INVALID",
      location: { field: "DATABASE_URL" },
      message: expect.not.stringContaining("secret"),
    });
  });
});
