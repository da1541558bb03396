// Render failures of revisions: the hub keeps serving the last good bundles and records why the
// new revision did not render; a later good render resolves them.
import { sql, type Kysely } from "kysely";
import type { ErrorInfo } from "@flotilla/model";
import type { FleetSchema } from "../schema.js";

export interface RenderFailureRecord {
  revision: string;
  at: string;
  errors: ErrorInfo[];
}

/** Records (or refreshes) the open failure of a revision. */
export async function recordRenderFailure(db: Kysely<FleetSchema>, revision: string, errors: readonly ErrorInfo[]): Promise<void> {
  await db
    .insertInto("render_failures")
    .values({ revision, errors: JSON.stringify(errors) })
    .onConflict((oc) =>
      oc
        .column("revision")
        .where("resolved_at", "is", null)
        .doUpdateSet((eb) => ({ errors: eb.ref("excluded.errors"), at: sql<Date>`now()` })),
    )
    .execute();
}

/** A good render of `revision` resolves every open failure. Returns how many it resolved. */
export async function resolveRenderFailures(db: Kysely<FleetSchema>, revision: string): Promise<number> {
  const result = await db
    .updateTable("render_failures")
    .set({ resolved_at: sql<Date>`now()`, resolved_by: revision })
    .where("resolved_at", "is", null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

/** The newest unresolved render failure, if any. */
export async function latestRenderFailure(db: Kysely<FleetSchema>): Promise<RenderFailureRecord | undefined> {
  const row = await db
    .selectFrom("render_failures")
    .select(["revision", "at", "errors"])
    .where("resolved_at", "is", null)
    .orderBy("at", "desc")
    .orderBy("id", "desc")
    .limit(1)
    .executeTakeFirst();
  return row ? { revision: row.revision, at: row.at.toISOString(), errors: row.errors } : undefined;
}
