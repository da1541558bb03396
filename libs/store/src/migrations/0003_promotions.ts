// Promotion: releases (immutable), promotions (one release into one environment, with its wave
// plan and state), each cluster's outcome within a promotion, approvals, the event log the API
// streams, holds on auto-promotion, and idempotency keys of POST requests.
import { sql, type Kysely, type Migration } from "kysely";
import { ClusterOutcome, PromotionEventType, PromotionKind, PromotionState } from "@flotilla/model";
import { oneOf } from "./vocabulary-checks.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations see the schema as it was
type MigrationDb = Kysely<any>;

export const promotions: Migration = {
  async up(db: MigrationDb): Promise<void> {
    await db.schema
      .createTable("releases")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("app", "text", (c) => c.notNull())
      .addColumn("source_revision", "text", (c) => c.notNull())
      .addColumn("images", "jsonb", (c) => c.notNull())
      .addColumn("created_by", "text", (c) => c.notNull())
      .addColumn("created_at", "timestamptz", (c) => c.notNull())
      .addColumn("note", "text")
      .execute();

    await db.schema
      .createTable("promotions")
      .addColumn("id", "text", (c) => c.primaryKey())
      .addColumn("app", "text", (c) => c.notNull())
      .addColumn("environment", "text", (c) => c.notNull())
      .addColumn("release_id", "text", (c) => c.notNull().references("releases.id"))
      .addColumn("kind", "text", (c) => c.notNull().check(oneOf("kind", PromotionKind)))
      .addColumn("rollback_of", "text", (c) => c.references("promotions.id"))
      .addColumn("state", "text", (c) => c.notNull().check(oneOf("state", PromotionState)))
      .addColumn("reason", "text")
      .addColumn("requested_by", "text", (c) => c.notNull())
      .addColumn("auto", "boolean", (c) => c.notNull().defaultTo(false))
      .addColumn("created_at", "timestamptz", (c) => c.notNull())
      .addColumn("updated_at", "timestamptz", (c) => c.notNull())
      .addColumn("finished_at", "timestamptz")
      .addColumn("plan", "jsonb", (c) => c.notNull())
      .addColumn("current_wave", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("wave_settled_at", "timestamptz")
      .addColumn("commits", "jsonb", (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
      .addColumn("base_revision", "text")
      .addColumn("previous_release_id", "text")
      .addColumn("gates", "jsonb", (c) => c.notNull().defaultTo(sql`'[]'::jsonb`))
      .addColumn("paused_from", "text")
      .addColumn("error", "jsonb")
      .addColumn("attempts", "integer", (c) => c.notNull().defaultTo(0))
      .execute();
    // The queue of an (app, environment): at most one promotion is active, others wait in order.
    await db.schema.createIndex("promotions_app_env").on("promotions").columns(["app", "environment", "created_at"]).execute();

    await db.schema
      .createTable("promotion_clusters")
      .addColumn("promotion_id", "text", (c) => c.notNull().references("promotions.id"))
      .addColumn("cluster", "text", (c) => c.notNull())
      .addColumn("wave", "integer", (c) => c.notNull())
      .addColumn("outcome", "text", (c) => c.notNull().check(oneOf("outcome", ClusterOutcome)))
      .addColumn("message", "text")
      .addColumn("generation", "bigint")
      .addColumn("bundle_digest", "text")
      .addColumn("issued_at", "timestamptz")
      .addColumn("healthy_since", "timestamptz")
      .addColumn("changed_at", "timestamptz", (c) => c.notNull())
      .addColumn("skipped_by", "text")
      .addPrimaryKeyConstraint("promotion_clusters_pk", ["promotion_id", "cluster"])
      .execute();

    await db.schema
      .createTable("promotion_approvals")
      .addColumn("promotion_id", "text", (c) => c.notNull().references("promotions.id"))
      .addColumn("subject", "text", (c) => c.notNull())
      .addColumn("groups", "jsonb", (c) => c.notNull())
      .addColumn("verdict", "text", (c) => c.notNull().check(sql`verdict in ('approve', 'reject')`))
      .addColumn("comment", "text")
      .addColumn("at", "timestamptz", (c) => c.notNull())
      .addPrimaryKeyConstraint("promotion_approvals_pk", ["promotion_id", "subject"])
      .execute();

    await db.schema
      .createTable("promotion_events")
      .addColumn("id", "bigint", (c) => c.primaryKey().generatedAlwaysAsIdentity())
      .addColumn("promotion_id", "text", (c) => c.notNull().references("promotions.id"))
      .addColumn("type", "text", (c) => c.notNull().check(oneOf("type", PromotionEventType)))
      .addColumn("actor", "text", (c) => c.notNull())
      .addColumn("at", "timestamptz", (c) => c.notNull())
      .addColumn("data", "jsonb", (c) => c.notNull())
      .execute();
    await db.schema.createIndex("promotion_events_promotion").on("promotion_events").columns(["promotion_id", "id"]).execute();

    await db.schema
      .createTable("promotion_holds")
      .addColumn("app", "text", (c) => c.notNull())
      .addColumn("environment", "text", (c) => c.notNull())
      .addColumn("release_id", "text", (c) => c.notNull())
      .addColumn("reason", "text", (c) => c.notNull())
      .addColumn("created_by", "text", (c) => c.notNull())
      .addColumn("created_at", "timestamptz", (c) => c.notNull())
      .addPrimaryKeyConstraint("promotion_holds_pk", ["app", "environment", "release_id"])
      .execute();

    await db.schema
      .createTable("idempotency_keys")
      .addColumn("key", "text", (c) => c.notNull())
      .addColumn("scope", "text", (c) => c.notNull())
      .addColumn("request_hash", "text", (c) => c.notNull())
      .addColumn("status", "integer", (c) => c.notNull())
      .addColumn("response", "jsonb", (c) => c.notNull())
      .addColumn("created_at", "timestamptz", (c) => c.notNull())
      .addPrimaryKeyConstraint("idempotency_keys_pk", ["scope", "key"])
      .execute();
  },

  async down(db: MigrationDb): Promise<void> {
    for (const t of ["idempotency_keys", "promotion_holds", "promotion_events", "promotion_approvals", "promotion_clusters", "promotions", "releases"]) {
      await db.schema.dropTable(t).execute();
    }
  },
};
