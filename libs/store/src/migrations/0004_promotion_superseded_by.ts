// Superseded promotions name the promotion that replaced them: a queued promotion of an older
// release gives way to one of a newer release of the same app and environment (docs/promotion.md).
import type { Kysely, Migration } from "kysely";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations see the schema as it was
type MigrationDb = Kysely<any>;

export const promotionSupersededBy: Migration = {
  async up(db: MigrationDb): Promise<void> {
    await db.schema.alterTable("promotions").addColumn("superseded_by", "text", (c) => c.references("promotions.id")).execute();
  },

  async down(db: MigrationDb): Promise<void> {
    await db.schema.alterTable("promotions").dropColumn("superseded_by").execute();
  },
};
