// Break-glass: the windows (active and past), their audit trail (every start, early end and
// expiry, with who and why), and the per-cluster generation of the signed control record.
import { sql, type Kysely, type Migration } from "kysely";
import { BreakGlassEvent, BreakGlassScope, values } from "@flotilla/model";
import { oneOf } from "./vocabulary-checks.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations see the schema as it was
type MigrationDb = Kysely<any>;

export const breakGlass: Migration = {
  async up(db: MigrationDb): Promise<void> {
    await db.schema
      .createTable("break_glass_windows")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("cluster", "text", (c) => c.notNull())
      .addColumn("scope", "jsonb", (c) => c.notNull())
      .addColumn("reason", "text", (c) => c.notNull().check(sql`length(reason) > 0`))
      .addColumn("author", "text", (c) => c.notNull().check(sql`length(author) > 0`))
      .addColumn("started_at", "timestamptz", (c) => c.notNull())
      .addColumn("expires_at", "timestamptz", (c) => c.notNull())
      .addColumn("ended_at", "timestamptz")
      .addColumn("ended_by", "text")
      .addColumn("end_reason", "text")
      .addCheckConstraint("break_glass_windows_expiry", sql`expires_at > started_at`)
      .addCheckConstraint("break_glass_windows_scope_kind", sql`(scope->>'kind') in (${sql.join(values(BreakGlassScope).map((v) => sql.lit(v)))})`)
      .execute();
    // The active windows of a cluster are read on every change and by the expiry sweep.
    await db.schema
      .createIndex("break_glass_windows_open")
      .on("break_glass_windows")
      .columns(["cluster", "expires_at"])
      .where(sql.ref("ended_at"), "is", null)
      .execute();

    await db.schema
      .createTable("break_glass_audit")
      .addColumn("id", "bigint", (c) => c.primaryKey().generatedAlwaysAsIdentity())
      .addColumn("window_id", "text", (c) => c.notNull().references("break_glass_windows.id"))
      .addColumn("cluster", "text", (c) => c.notNull())
      .addColumn("event", "text", (c) => c.notNull().check(oneOf("event", BreakGlassEvent)))
      .addColumn("actor", "text", (c) => c.notNull())
      .addColumn("reason", "text")
      .addColumn("at", "timestamptz", (c) => c.notNull())
      .execute();
    await db.schema.createIndex("break_glass_audit_cluster").on("break_glass_audit").columns(["cluster", "at"]).execute();

    await db.schema
      .createTable("break_glass_control")
      .addColumn("cluster", "text", (c) => c.primaryKey())
      .addColumn("generation", "bigint", (c) => c.notNull().check(sql`generation > 0`))
      .execute();
  },

  async down(db: MigrationDb): Promise<void> {
    await db.schema.dropTable("break_glass_control").execute();
    await db.schema.dropTable("break_glass_audit").execute();
    await db.schema.dropTable("break_glass_windows").execute();
  },
};
