// The fleet's clusters as the fleet file names them.
import { sql, type Kysely } from "kysely";
import type { Cluster } from "@flotilla/model";
import type { FleetSchema } from "../schema.js";

export interface UpsertClustersOptions {
  /** Mark clusters absent from `clusters` as retired (they left the fleet file). */
  retireMissing?: boolean;
}

/** Inserts or updates every cluster (one statement); optionally retires the ones not listed. */
export async function upsertClusters(
  db: Kysely<FleetSchema>,
  clusters: readonly Cluster[],
  options: UpsertClustersOptions = {},
): Promise<void> {
  // ON CONFLICT DO UPDATE cannot touch a row twice in one statement: last entry wins.
  const byName = new Map(clusters.map((c) => [c.name, c]));
  await db.transaction().execute(async (trx) => {
    if (byName.size > 0) {
      await trx
        .insertInto("clusters")
        .values(
          [...byName.values()].map((c) => ({
            name: c.name,
            environment: c.environment,
            labels: JSON.stringify(c.labels ?? {}),
            namespaces: c.namespaces ? JSON.stringify(c.namespaces) : null,
          })),
        )
        .onConflict((oc) =>
          oc.column("name").doUpdateSet((eb) => ({
            environment: eb.ref("excluded.environment"),
            labels: eb.ref("excluded.labels"),
            namespaces: eb.ref("excluded.namespaces"),
            updated_at: sql<Date>`now()`,
            retired_at: null,
          })),
        )
        .execute();
    }
    if (options.retireMissing) {
      let retire = trx.updateTable("clusters").set({ retired_at: sql<Date>`now()` }).where("retired_at", "is", null);
      if (byName.size > 0) retire = retire.where("name", "not in", [...byName.keys()]);
      await retire.execute();
    }
  });
}
