// Desired pointers the hub issued, per cluster and generation. Generations come from here, so
// they keep increasing across hub restarts.
import { sql, type Kysely } from "kysely";
import { ErrorCode, FlotillaError, type SignedPointer } from "@flotilla/model";
import type { FleetSchema } from "../schema.js";

/** Records an issued pointer. Re-recording the same pointer is a no-op; a different pointer with
 * an already used generation is refused (StaleGeneration): two issuers would confuse agents. */
export async function recordDesiredPointer(db: Kysely<FleetSchema>, pointer: SignedPointer): Promise<void> {
  const inserted = await db
    .insertInto("desired_pointers")
    .values({
      cluster: pointer.cluster,
      generation: pointer.generation,
      revision: pointer.revision,
      bundle_digest: pointer.bundleDigest,
      issued_at: pointer.issuedAt,
      commit_author: pointer.commit?.author ?? null,
      commit_message: pointer.commit?.message ?? null,
      key_id: pointer.keyId,
      signature: pointer.signature,
    })
    .onConflict((oc) => oc.columns(["cluster", "generation"]).doNothing())
    .returning("generation")
    .executeTakeFirst();
  if (inserted) return;
  const existing = await db
    .selectFrom("desired_pointers")
    .select(["revision", "bundle_digest"])
    .where("cluster", "=", pointer.cluster)
    .where("generation", "=", pointer.generation)
    .executeTakeFirstOrThrow();
  if (existing.revision !== pointer.revision || existing.bundle_digest !== pointer.bundleDigest) {
    throw new FlotillaError(
      ErrorCode.StaleGeneration,
      `cluster ${pointer.cluster}: generation ${pointer.generation} was already issued for revision ${existing.revision} (${existing.bundle_digest}); take nextGeneration() instead`,
    );
  }
}

/**
 * The generation to issue next for a cluster: one more than the highest the hub issued or any
 * agent reported. Counting reported generations keeps a hub with a fresh database from issuing a
 * generation agents would refuse as stale.
 */
export async function nextGeneration(db: Kysely<FleetSchema>, cluster: string): Promise<number> {
  return (await nextGenerations(db, [cluster])).get(cluster) ?? 1;
}

/**
 * nextGeneration of many clusters in one query (one round trip for a fleet-wide commit instead of
 * one per cluster): the map has an entry for every cluster asked.
 */
export async function nextGenerations(db: Kysely<FleetSchema>, clusters: readonly string[]): Promise<Map<string, number>> {
  const next = new Map<string, number>();
  if (clusters.length === 0) return next;
  const rows = await sql<{ cluster: string; next: number }>`
    select c.cluster, coalesce(greatest(
      (select max(generation) from desired_pointers where cluster = c.cluster),
      (select max(generation) from cluster_status where cluster = c.cluster),
      (select max(generation) from heartbeats where cluster = c.cluster)
    ), 0)::bigint + 1 as next
    from unnest(${[...new Set(clusters)]}::text[]) as c(cluster)`.execute(db);
  for (const row of rows.rows) next.set(row.cluster, Number(row.next));
  return next;
}

export interface DesiredPointerRecord {
  cluster: string;
  generation: number;
  revision: string;
  bundleDigest: string;
  issuedAt: string;
  commit?: { author: string; message: string };
}

/** The highest-generation pointer of a cluster, if any was issued. */
export async function currentDesiredPointer(db: Kysely<FleetSchema>, cluster: string): Promise<DesiredPointerRecord | undefined> {
  const row = await db.selectFrom("current_desired_pointers").selectAll().where("cluster", "=", cluster).executeTakeFirst();
  if (!row) return undefined;
  return {
    cluster: row.cluster,
    generation: row.generation,
    revision: row.revision,
    bundleDigest: row.bundle_digest,
    issuedAt: row.issued_at.toISOString(),
    ...(row.commit_author !== null ? { commit: { author: row.commit_author, message: row.commit_message ?? "" } } : {}),
  };
}

/** Every pointer issued to a cluster, newest first (`before`: only generations below it). */
export async function listDesiredPointers(db: Kysely<FleetSchema>, cluster: string, opts: { limit: number; before?: number }): Promise<DesiredPointerRecord[]> {
  let q = db.selectFrom("desired_pointers").selectAll().where("cluster", "=", cluster).orderBy("generation", "desc").limit(opts.limit);
  if (opts.before !== undefined) q = q.where("generation", "<", opts.before);
  const rows = await q.execute();
  return rows.map((row) => ({
    cluster: row.cluster,
    generation: Number(row.generation),
    revision: row.revision,
    bundleDigest: row.bundle_digest,
    issuedAt: new Date(row.issued_at).toISOString(),
    ...(row.commit_author !== null ? { commit: { author: row.commit_author, message: row.commit_message ?? "" } } : {}),
  }));
}
