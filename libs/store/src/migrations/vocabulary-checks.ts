// CHECK constraints that keep the closed vocabulary in the database. Migration 0001 created them
// from the values of its day; a database migrated then refuses a value added to the vocabulary
// later. So: when a vocabulary gains a value, add a migration that calls replaceVocabularyChecks()
// (the test vocabulary-checks.test.ts fails until you do, listing what changed).
import { sql, type Kysely, type RawBuilder } from "kysely";
import { ChangeAction, DriftAction, DriftPolicy, Health, SyncState, values } from "@flotilla/model";

export interface VocabularyCheck {
  table: string;
  constraint: string;
  column: string;
  vocabulary: Record<string, string>;
}

export const vocabularyChecks: readonly VocabularyCheck[] = [
  { table: "cluster_status", constraint: "cluster_status_sync_state", column: "sync_state", vocabulary: SyncState },
  { table: "cluster_status", constraint: "cluster_status_health", column: "health", vocabulary: Health },
  { table: "app_status", constraint: "app_status_health", column: "health", vocabulary: Health },
  { table: "object_status", constraint: "object_status_action", column: "action", vocabulary: ChangeAction },
  { table: "object_status", constraint: "object_status_health", column: "health", vocabulary: Health },
  { table: "drift_events", constraint: "drift_events_policy", column: "policy", vocabulary: DriftPolicy },
  { table: "drift_events", constraint: "drift_events_action", column: "action", vocabulary: DriftAction },
];

/** `<column> in ('a', 'b', …)` for a closed vocabulary. */
export function oneOf(column: string, vocabulary: Record<string, string>): RawBuilder<unknown> {
  return sql`${sql.ref(column)} in (${sql.join(values(vocabulary).map((v) => sql.lit(v)))})`;
}

/** Re-creates every vocabulary CHECK constraint from today's values (for a later migration). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- migrations see the schema as it was
export async function replaceVocabularyChecks(db: Kysely<any>): Promise<void> {
  for (const c of vocabularyChecks) {
    await db.schema.alterTable(c.table).dropConstraint(c.constraint).ifExists().execute();
    await db.schema.alterTable(c.table).addCheckConstraint(c.constraint, oneOf(c.column, c.vocabulary)).execute();
  }
}
