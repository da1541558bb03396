// Brings the schema to the latest migration. kysely's Migrator takes a Postgres advisory lock, so
// several hub replicas starting at once apply each migration exactly once.
import { Migrator, type Kysely } from "kysely";
import { ErrorCode, FlotillaError } from "@flotilla/model";
import { staticMigrationProvider } from "./migrations/index.js";
import type { FleetSchema } from "./schema.js";

export interface MigrationOutcome {
  /** Names of the migrations applied by this call (empty when already up to date). */
  applied: string[];
}

export async function migrateToLatest(db: Kysely<FleetSchema>): Promise<MigrationOutcome> {
  const migrator = new Migrator({ db, provider: staticMigrationProvider });
  const { error, results = [] } = await migrator.migrateToLatest();
  if (error) {
    const failed = results.find((r) => r.status === "Error");
    throw new FlotillaError(
      ErrorCode.Internal,
      `database migration ${failed?.migrationName ?? "(unknown)"} failed: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  return { applied: results.filter((r) => r.status === "Success").map((r) => r.migrationName) };
}
