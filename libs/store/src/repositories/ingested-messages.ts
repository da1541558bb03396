// The ingest de-duplication record grows with every report. A message id only needs remembering
// while JetStream could still deliver that message again: as long as it stays in the stream.
import type { Kysely } from "kysely";
import type { FleetSchema } from "../schema.js";

/**
 * Forgets message ids ingested before `olderThan`. Pass a time older than the report stream's
 * max age (7 days by default), so no message that can still be redelivered is forgotten.
 * Returns how many were removed.
 */
export async function pruneIngestedMessages(db: Kysely<FleetSchema>, olderThan: Date): Promise<number> {
  const result = await db.deleteFrom("ingested_messages").where("ingested_at", "<", olderThan).executeTakeFirst();
  return Number(result.numDeletedRows);
}
