// Runs a store suite on both engines: real Postgres 15 (a fresh database per test) and PGlite
// (a fresh in-memory instance per test).
import { createTestDatabase } from "@flotilla/testkit";
import { migrateToLatest, openDatabase, type FleetDatabase } from "../src/index.js";

export interface TestEngine {
  name: "postgres" | "pglite";
  /** A migrated, empty database; `cleanup` closes and drops it. */
  open(label: string): Promise<{ fleet: FleetDatabase; cleanup: () => Promise<void> }>;
}

export const engines: TestEngine[] = [
  {
    name: "postgres",
    async open(label) {
      const testDb = await createTestDatabase(label);
      const fleet = await openDatabase({ url: testDb.url });
      await migrateToLatest(fleet.db);
      return {
        fleet,
        cleanup: async () => {
          await fleet.close();
          await testDb.drop();
        },
      };
    },
  },
  {
    name: "pglite",
    async open() {
      const fleet = await openDatabase({});
      await migrateToLatest(fleet.db);
      return { fleet, cleanup: () => fleet.close() };
    },
  },
];
