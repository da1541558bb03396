// The fleet overview the API serves: each cluster with its desired pointer, what its agent last
// reported, its last heartbeat and its open drift.
import { type Kysely } from "kysely";
import type { ErrorInfo, Health, SyncState } from "@flotilla/model";
import type { FleetSchema } from "../schema.js";
import { effectiveSync } from "./effective-sync-state.js";

export interface ClusterOverview {
  name: string;
  environment: string;
  labels: Record<string, string>;
  namespaces: string[] | null;
  desired: { revision: string; generation: number; bundleDigest: string; issuedAt: string; commit: { author: string; message: string } | null } | null;
  /** What the agent reported last, as reported (the effective values are syncState/health). */
  reported: {
    generation: number;
    revision: string;
    bundleDigest: string;
    syncState: SyncState;
    health: Health;
    reportedAt: string;
    agent: string;
  } | null;
  observedRevision: string | null;
  syncState: SyncState;
  health: Health;
  lastHeartbeat: { at: string; agent: string; generation: number; deadlineSeconds: number } | null;
  openDriftCount: number;
  lastError: ErrorInfo | null;
}

/** All clusters in the fleet (retired ones excluded), by name. `name` restricts to one. */
export async function listClusterOverviews(
  db: Kysely<FleetSchema>,
  options: { name?: string; now?: Date } = {},
): Promise<ClusterOverview[]> {
  const now = options.now ?? new Date();
  let query = db
    .selectFrom("clusters as c")
    .leftJoin("current_desired_pointers as d", "d.cluster", "c.name")
    .leftJoin("cluster_status as s", "s.cluster", "c.name")
    .leftJoin("heartbeats as h", "h.cluster", "c.name")
    .select((eb) => [
      "c.name",
      "c.environment",
      "c.labels",
      "c.namespaces",
      "d.generation as d_generation",
      "d.revision as d_revision",
      "d.bundle_digest as d_bundle_digest",
      "d.issued_at as d_issued_at",
      "d.commit_author as d_commit_author",
      "d.commit_message as d_commit_message",
      "s.generation as s_generation",
      "s.revision as s_revision",
      "s.bundle_digest as s_bundle_digest",
      "s.observed_revision as s_observed_revision",
      "s.sync_state as s_sync_state",
      "s.health as s_health",
      "s.last_error as s_last_error",
      "s.reported_at as s_reported_at",
      "s.agent as s_agent",
      "h.at as h_at",
      "h.agent as h_agent",
      "h.generation as h_generation",
      "h.deadline_seconds as h_deadline_seconds",
      eb
        .selectFrom("drift_events as e")
        .select((e) => e.fn.countAll<number>().as("n"))
        .whereRef("e.cluster", "=", "c.name")
        .where("e.resolved_at", "is", null)
        .as("open_drift_count"),
    ])
    .where("c.retired_at", "is", null)
    .orderBy("c.name");
  if (options.name !== undefined) query = query.where("c.name", "=", options.name);
  const rows = await query.execute();

  return rows.map((r) => {
    const desired =
      r.d_generation === null || r.d_generation === undefined
        ? null
        : {
            revision: r.d_revision!,
            generation: r.d_generation,
            bundleDigest: r.d_bundle_digest!,
            issuedAt: r.d_issued_at!.toISOString(),
            commit: r.d_commit_author === null ? null : { author: r.d_commit_author!, message: r.d_commit_message ?? "" },
          };
    const reported =
      r.s_generation === null
        ? null
        : {
            generation: r.s_generation,
            revision: r.s_revision!,
            bundleDigest: r.s_bundle_digest!,
            syncState: r.s_sync_state!,
            health: r.s_health!,
            reportedAt: r.s_reported_at!.toISOString(),
            agent: r.s_agent!,
          };
    const heartbeat =
      r.h_at === null ? null : { at: r.h_at, agent: r.h_agent!, generation: r.h_generation!, deadlineSeconds: r.h_deadline_seconds! };
    const sync = effectiveSync({
      status: reported,
      heartbeat,
      desiredGeneration: desired?.generation ?? null,
      now,
    });
    return {
      name: r.name,
      environment: r.environment,
      labels: r.labels,
      namespaces: r.namespaces,
      desired,
      reported,
      observedRevision: r.s_observed_revision ?? null,
      syncState: sync.syncState,
      health: sync.health,
      lastHeartbeat: heartbeat ? { ...heartbeat, at: heartbeat.at.toISOString() } : null,
      openDriftCount: Number(r.open_drift_count ?? 0),
      lastError: r.s_last_error ?? null,
    };
  });
}
