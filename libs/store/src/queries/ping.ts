import { sql, type Kysely } from "kysely";
import type { FleetSchema } from "../schema.js";

/** True when the database answers a trivial query. */
export async function databaseReachable(db: Kysely<FleetSchema>): Promise<boolean> {
  try {
    await sql`select 1`.execute(db);
    return true;
  } catch {
    return false;
  }
}
