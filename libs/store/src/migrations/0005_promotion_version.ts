// A promotion row's version: every update adds one, and the promotion controller writes only
// over the version it read. Two hub replicas (a deposed leader's step still in flight, and the new
// leader) can then never both advance the same promotion (docs/ha.md).
import type { Kysely, Migration } from "kysely";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations see the schema as it was
type MigrationDb = Kysely<any>;

export const promotionVersion: Migration = {
  async up(db: MigrationDb): Promise<void> {
    await db.schema.alterTable("promotions").addColumn("version", "integer", (c) => c.notNull().defaultTo(0)).execute();
  },

  async down(db: MigrationDb): Promise<void> {
    await db.schema.alterTable("promotions").dropColumn("version").execute();
  },
};
