// @flotilla/store: the hub's Postgres schema (PGlite without a server), migrations, and the
// repository functions and queries the hub calls.
export { openDatabase, type OpenDatabaseOptions, type FleetDatabase } from "./open-database.js";
export { migrateToLatest, type MigrationOutcome } from "./migrate.js";
export { migrations, staticMigrationProvider } from "./migrations/index.js";
export { PGliteDialect } from "./pglite-dialect.js";
export { Mutex } from "./mutex.js";
export type * from "./schema.js";

export { upsertClusters, type UpsertClustersOptions } from "./repositories/clusters.js";
export {
  recordDesiredPointer,
  nextGeneration,
  nextGenerations,
  currentDesiredPointer,
  listDesiredPointers,
  type DesiredPointerRecord,
} from "./repositories/desired-pointers.js";
export {
  recordRenderFailure,
  resolveRenderFailures,
  latestRenderFailure,
  type RenderFailureRecord,
} from "./repositories/render-failures.js";
export { ingestReport, ingestReports } from "./repositories/ingest-report.js";
export type { IngestMeta, IngestOutcome } from "./repositories/ingest-meta.js";
export { pruneIngestedMessages } from "./repositories/ingested-messages.js";
export {
  recordRejectedReport,
  listRejectedReports,
  type RejectedReportInput,
  type RejectedReportRecord,
} from "./repositories/rejected-reports.js";
export {
  startBreakGlass,
  endBreakGlass,
  expireDueBreakGlass,
  listActiveBreakGlass,
  getBreakGlassWindow,
  listBreakGlassAudit,
  nextControlGeneration,
  type StartBreakGlassInput,
  type EndBreakGlassInput,
  type EndBreakGlassOutcome,
  type BreakGlassAuditEntry,
  type BreakGlassAuditQuery,
} from "./repositories/break-glass.js";

export { listClusterOverviews, type ClusterOverview } from "./queries/cluster-overview.js";
export { getClusterDetail, type ClusterDetail, type AppStatusView, type ObjectStatusView } from "./queries/cluster-detail.js";
export { listDriftEvents, encodeDriftCursor, decodeDriftCursor, type DriftEventView, type DriftLedgerQuery, type DriftCursor } from "./queries/drift-ledger.js";
export { effectiveSync, type EffectiveSync, type SyncInputs } from "./queries/effective-sync-state.js";
export { databaseReachable } from "./queries/ping.js";
export * from "./repositories/promotions.js";
export { openLeaderLease, notifyChannel, soleLeader, SOLE_LEADER, SERVER_DEAD_AFTER_MS, SERVER_KEEPALIVE, DEFAULT_CHECK_TIMEOUT_MS, type LeaderLease, type LeaderLeaseOptions } from "./leader-lease.js";
