// The first schema: fleet, desired pointers, render failures, agent-reported state, the drift
// ledger and the ingest bookkeeping. Closed vocabularies are CHECK constraints built from
// @flotilla/model, so the database refuses a value the code does not know (see
// vocabulary-checks.ts for what to do when a vocabulary grows).
import { sql, type Kysely, type Migration } from "kysely";
import { ChangeAction, DriftAction, DriftPolicy, Health, SyncState } from "@flotilla/model";
import { oneOf } from "./vocabulary-checks.js";

// A migration must not depend on today's schema type: it sees the database as it was then.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type MigrationDb = Kysely<any>;

export const fleetState: Migration = {
  async up(db: MigrationDb): Promise<void> {
    await db.schema
      .createTable("clusters")
      .addColumn("name", "text", (c) => c.primaryKey())
      .addColumn("environment", "text", (c) => c.notNull())
      .addColumn("labels", "jsonb", (c) => c.notNull().defaultTo(sql`'{}'::jsonb`))
      .addColumn("namespaces", "jsonb")
      .addColumn("updated_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
      .addColumn("retired_at", "timestamptz")
      .execute();

    await db.schema
      .createTable("desired_pointers")
      .addColumn("cluster", "text", (c) => c.notNull())
      .addColumn("generation", "bigint", (c) => c.notNull().check(sql`generation > 0`))
      .addColumn("revision", "text", (c) => c.notNull())
      .addColumn("bundle_digest", "text", (c) => c.notNull())
      .addColumn("issued_at", "timestamptz", (c) => c.notNull())
      .addColumn("commit_author", "text")
      .addColumn("commit_message", "text")
      .addColumn("key_id", "text", (c) => c.notNull())
      .addColumn("signature", "text", (c) => c.notNull())
      .addColumn("recorded_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
      .addPrimaryKeyConstraint("desired_pointers_pk", ["cluster", "generation"])
      .execute();

    await db.schema
      .createView("current_desired_pointers")
      .as(
        db
          .selectFrom("desired_pointers")
          .distinctOn("cluster")
          .select(["cluster", "generation", "revision", "bundle_digest", "issued_at", "commit_author", "commit_message"])
          .orderBy("cluster")
          .orderBy("generation", "desc"),
      )
      .execute();

    await db.schema
      .createTable("render_failures")
      .addColumn("id", "bigint", (c) => c.primaryKey().generatedAlwaysAsIdentity())
      .addColumn("revision", "text", (c) => c.notNull())
      .addColumn("at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
      .addColumn("errors", "jsonb", (c) => c.notNull())
      .addColumn("resolved_at", "timestamptz")
      .addColumn("resolved_by", "text")
      .execute();
    // At most one open failure per revision: a re-render of the same bad commit updates it.
    await db.schema
      .createIndex("render_failures_open_revision")
      .on("render_failures")
      .column("revision")
      .unique()
      .where(sql.ref("resolved_at"), "is", null)
      .execute();

    await db.schema
      .createTable("cluster_status")
      .addColumn("cluster", "text", (c) => c.primaryKey())
      .addColumn("generation", "bigint", (c) => c.notNull())
      .addColumn("revision", "text", (c) => c.notNull())
      .addColumn("bundle_digest", "text", (c) => c.notNull())
      .addColumn("observed_revision", "text")
      .addColumn("sync_state", "text", (c) => c.notNull())
      .addColumn("health", "text", (c) => c.notNull())
      .addColumn("last_error", "jsonb")
      .addColumn("reported_at", "timestamptz", (c) => c.notNull())
      .addColumn("agent", "text", (c) => c.notNull())
      .addCheckConstraint("cluster_status_sync_state", oneOf("sync_state", SyncState))
      .addCheckConstraint("cluster_status_health", oneOf("health", Health))
      .execute();

    await db.schema
      .createTable("app_status")
      .addColumn("cluster", "text", (c) => c.notNull())
      .addColumn("app", "text", (c) => c.notNull())
      .addColumn("health", "text", (c) => c.notNull())
      .addColumn("generation", "bigint", (c) => c.notNull())
      .addColumn("updated_at", "timestamptz", (c) => c.notNull())
      .addPrimaryKeyConstraint("app_status_pk", ["cluster", "app"])
      .addCheckConstraint("app_status_health", oneOf("health", Health))
      .execute();

    await db.schema
      .createTable("object_status")
      .addColumn("cluster", "text", (c) => c.notNull())
      .addColumn("app", "text", (c) => c.notNull())
      .addColumn("group", "text", (c) => c.notNull())
      .addColumn("kind", "text", (c) => c.notNull())
      .addColumn("namespace", "text", (c) => c.notNull())
      .addColumn("name", "text", (c) => c.notNull())
      .addColumn("action", "text", (c) => c.notNull())
      .addColumn("reason", "text", (c) => c.notNull())
      .addColumn("message", "text")
      .addColumn("health", "text", (c) => c.notNull())
      .addColumn("health_reason", "text")
      .addColumn("images", "jsonb", (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
      .addColumn("generation", "bigint", (c) => c.notNull())
      .addColumn("updated_at", "timestamptz", (c) => c.notNull())
      .addPrimaryKeyConstraint("object_status_pk", ["cluster", "group", "kind", "namespace", "name"])
      .addCheckConstraint("object_status_action", oneOf("action", ChangeAction))
      .addCheckConstraint("object_status_health", oneOf("health", Health))
      .execute();

    await db.schema
      .createTable("drift_events")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("cluster", "text", (c) => c.notNull())
      .addColumn("app", "text", (c) => c.notNull())
      .addColumn("generation", "bigint", (c) => c.notNull())
      .addColumn("revision", "text", (c) => c.notNull())
      .addColumn("group", "text", (c) => c.notNull())
      .addColumn("kind", "text", (c) => c.notNull())
      .addColumn("namespace", "text", (c) => c.notNull())
      .addColumn("name", "text", (c) => c.notNull())
      .addColumn("paths", "jsonb", (c) => c.notNull())
      .addColumn("actor", "text", (c) => c.notNull())
      .addColumn("changed_at", "timestamptz")
      .addColumn("detected_at", "timestamptz", (c) => c.notNull())
      .addColumn("policy", "text", (c) => c.notNull())
      .addColumn("action", "text", (c) => c.notNull())
      .addColumn("agent", "text", (c) => c.notNull())
      .addColumn("resolved_at", "timestamptz")
      .addCheckConstraint("drift_events_policy", oneOf("policy", DriftPolicy))
      .addCheckConstraint("drift_events_action", oneOf("action", DriftAction))
      .execute();
    await db.schema.createIndex("drift_events_detected").on("drift_events").columns(["detected_at desc", "id"]).execute();
    await db.schema.createIndex("drift_events_cluster_detected").on("drift_events").columns(["cluster", "detected_at desc"]).execute();
    // The overview counts open drift per cluster on every request.
    await db.schema.createIndex("drift_events_open").on("drift_events").column("cluster").where(sql.ref("resolved_at"), "is", null).execute();

    await db.schema
      .createTable("heartbeats")
      .addColumn("cluster", "text", (c) => c.primaryKey())
      .addColumn("agent", "text", (c) => c.notNull())
      .addColumn("at", "timestamptz", (c) => c.notNull())
      .addColumn("generation", "bigint", (c) => c.notNull())
      .addColumn("deadline_seconds", "double precision", (c) => c.notNull().check(sql`deadline_seconds > 0`))
      .execute();

    await db.schema
      .createTable("ingested_messages")
      .addColumn("message_id", "text", (c) => c.primaryKey())
      .addColumn("subject", "text", (c) => c.notNull())
      .addColumn("stream_seq", "bigint", (c) => c.notNull())
      .addColumn("ingested_at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
      .execute();
    await db.schema.createIndex("ingested_messages_ingested_at").on("ingested_messages").column("ingested_at").execute();

    await db.schema
      .createTable("rejected_reports")
      .addColumn("id", "bigint", (c) => c.primaryKey().generatedAlwaysAsIdentity())
      .addColumn("message_id", "text")
      .addColumn("stream_seq", "bigint", (c) => c.notNull())
      .addColumn("subject", "text", (c) => c.notNull())
      .addColumn("error", "jsonb", (c) => c.notNull())
      .addColumn("raw", "bytea", (c) => c.notNull())
      .addColumn("at", "timestamptz", (c) => c.notNull().defaultTo(sql`now()`))
      .execute();
  },

  async down(db: MigrationDb): Promise<void> {
    for (const table of [
      "rejected_reports",
      "ingested_messages",
      "heartbeats",
      "drift_events",
      "object_status",
      "app_status",
      "cluster_status",
      "render_failures",
    ]) {
      await db.schema.dropTable(table).execute();
    }
    await db.schema.dropView("current_desired_pointers").execute();
    await db.schema.dropTable("desired_pointers").execute();
    await db.schema.dropTable("clusters").execute();
  },
};
