import { sql } from "kysely";
import { afterEach, describe, expect, it } from "vitest";
import { values } from "@flotilla/model";
import { replaceVocabularyChecks, vocabularyChecks } from "../src/migrations/vocabulary-checks.js";
import { engines } from "./engines.js";

// The vocabulary as the latest migration that (re)created the CHECK constraints saw it. When this
// test fails, a vocabulary changed: databases migrated earlier would refuse the new value. Add a
// migration that calls replaceVocabularyChecks(), then update this list.
const AT_LATEST_MIGRATION: Record<string, string[]> = {
  sync_state: ["Synced", "OutOfSync", "Applying", "Failed", "Unknown"],
  health: ["Healthy", "Progressing", "Degraded", "Suspended", "Missing", "Unknown"],
  action: ["created", "configured", "unchanged", "deleted", "skipped", "failed"],
  policy: ["enforce", "warn", "observe"],
  drift_action: ["reverted", "left", "blocked-by-break-glass", "fight", "revert-failed"],
};

describe("vocabulary CHECK constraints", () => {
  it("were last migrated with today's vocabulary", () => {
    for (const c of vocabularyChecks) {
      const key = c.constraint === "drift_events_action" ? "drift_action" : c.column;
      expect({ constraint: c.constraint, values: values(c.vocabulary) }).toEqual({ constraint: c.constraint, values: AT_LATEST_MIGRATION[key] });
    }
  });
});

describe.each(engines)("replaceVocabularyChecks on $name", (engine) => {
  let cleanup: (() => Promise<void>) | undefined;
  afterEach(async () => {
    await cleanup?.();
    cleanup = undefined;
  });

  it("re-creates the constraints: still refusing unknown values, accepting every known one", async () => {
    const opened = await engine.open("vocab_replace");
    cleanup = opened.cleanup;
    const { db } = opened.fleet;
    await replaceVocabularyChecks(db);
    const insert = (health: string) =>
      sql`insert into app_status (cluster, app, health, generation, updated_at) values ('c', ${health}, ${health}, 1, now())`.execute(db);
    for (const h of AT_LATEST_MIGRATION.health!) await insert(h);
    await expect(insert("Fine")).rejects.toThrow(/app_status_health/);
  });
});
