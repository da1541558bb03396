import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { Mutex, migrateToLatest, openDatabase, type FleetDatabase } from "../src/index.js";

describe("Mutex", () => {
  it("lets holders in one at a time, in arrival order", async () => {
    const mutex = new Mutex();
    const log: string[] = [];
    const hold = async (name: string, ticks: number) => {
      const release = await mutex.lock();
      log.push(`${name}+`);
      for (let i = 0; i < ticks; i++) await Promise.resolve();
      log.push(`${name}-`);
      release();
    };
    await Promise.all([hold("a", 5), hold("b", 1), hold("c", 3)]);
    expect(log).toEqual(["a+", "a-", "b+", "b-", "c+", "c-"]);
  });

  it("ignores a second release of the same lock", async () => {
    const mutex = new Mutex();
    const first = await mutex.lock();
    const second = mutex.lock();
    const third = mutex.lock();
    first();
    const releaseSecond = await second;
    first(); // must not let `third` in while `second` holds the lock
    let thirdIn = false;
    void third.then(() => (thirdIn = true));
    await new Promise((r) => setImmediate(r));
    expect(thirdIn).toBe(false);
    releaseSecond();
    await third;
  });
});

describe("PGlite dialect", () => {
  let fleet: FleetDatabase | undefined;
  afterEach(async () => {
    await fleet?.close();
    fleet = undefined;
  });

  it("keeps a concurrent query out of an open transaction that rolls back", async () => {
    fleet = await openDatabase({});
    const { db } = fleet;
    await migrateToLatest(db);
    let insideTransaction!: () => void;
    const transactionStarted = new Promise<void>((r) => (insideTransaction = r));

    const rolledBack = db
      .transaction()
      .execute(async (trx) => {
        await trx.insertInto("ingested_messages").values({ message_id: "in-tx", subject: "s", stream_seq: 1 }).execute();
        insideTransaction();
        // Give the concurrent query every chance to run while this transaction is open.
        for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
        throw new Error("roll back");
      })
      .catch((err: Error) => err.message);
    await transactionStarted;
    const concurrent = db.insertInto("ingested_messages").values({ message_id: "outside", subject: "s", stream_seq: 2 }).execute();

    expect(await rolledBack).toBe("roll back");
    await concurrent;
    const ids = await db.selectFrom("ingested_messages").select("message_id").execute();
    expect(ids.map((r) => r.message_id)).toEqual(["outside"]);
  });

  it("serves many concurrent transactions without losing a row", async () => {
    fleet = await openDatabase({});
    const { db } = fleet;
    await migrateToLatest(db);
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        db.transaction().execute(async (trx) => {
          await trx.insertInto("ingested_messages").values({ message_id: `m${i}`, subject: "s", stream_seq: i }).execute();
          await sql`select pg_sleep(0)`.execute(trx);
          if (i % 5 === 0) throw new Error("rolled back on purpose");
        }).catch(() => undefined),
      ),
    );
    const { n } = await db.selectFrom("ingested_messages").select((eb) => eb.fn.countAll<number>().as("n")).executeTakeFirstOrThrow();
    expect(n).toBe(40);
  });

  it("keeps data in a directory across reopen", async () => {
    const { mkdtemp, rm } = await import("node:fs/promises");
    const { tmpdir } = await import("node:os");
    const { join } = await import("node:path");
    const dir = await mkdtemp(join(tmpdir(), "flotilla-pglite-"));
    try {
      const first = await openDatabase({ pgliteDir: dir });
      await migrateToLatest(first.db);
      await first.db.insertInto("ingested_messages").values({ message_id: "kept", subject: "s", stream_seq: 1 }).execute();
      await first.close();
      fleet = await openDatabase({ pgliteDir: dir });
      expect((await migrateToLatest(fleet.db)).applied).toEqual([]);
      const rows = await fleet.db.selectFrom("ingested_messages").select("message_id").execute();
      expect(rows).toEqual([{ message_id: "kept" }]);
    } finally {
      await fleet?.close();
      fleet = undefined;
      await rm(dir, { recursive: true, force: true });
    }
  });
});
