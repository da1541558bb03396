// The hub's tables as kysely sees them. Column names use the glossary's words (snake_case).
// JSONB columns are written as JSON.stringify(value) and read back parsed.
import type { ColumnType, Generated, JSONColumnType } from "kysely";
import type {
  BreakGlassEvent,
  BreakGlassScopeSpec,
  ChangeAction,
  ClusterOutcome,
  DriftAction,
  DriftPath,
  DriftPolicy,
  ErrorInfo,
  GateResult,
  Health,
  PromotionEventType,
  PromotionKind,
  PromotionState,
  ReleaseImage,
  SyncState,
} from "@flotilla/model";

/** timestamptz: read as Date, written as Date or ISO-8601 string. */
export type Timestamp = ColumnType<Date, Date | string, Date | string>;
type DefaultedTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json<T extends object> = JSONColumnType<T, string, string>;
type NullableJson<T> = ColumnType<T | null, string | null, string | null>;

export interface ClustersTable {
  name: string;
  environment: string;
  labels: Json<Record<string, string>>;
  /** Tenant cluster namespaces; null for a cluster-wide agent. */
  namespaces: NullableJson<string[]>;
  updated_at: DefaultedTimestamp;
  /** Set when the cluster left the fleet file; cleared if it comes back. */
  retired_at: Timestamp | null;
}

export interface DesiredPointersTable {
  cluster: string;
  generation: number;
  revision: string;
  bundle_digest: string;
  issued_at: Timestamp;
  commit_author: string | null;
  commit_message: string | null;
  key_id: string;
  signature: string;
  recorded_at: DefaultedTimestamp;
}

/** View: the highest-generation desired pointer of each cluster. */
export interface CurrentDesiredPointersView {
  cluster: string;
  generation: number;
  revision: string;
  bundle_digest: string;
  issued_at: Date;
  commit_author: string | null;
  commit_message: string | null;
}

export interface RenderFailuresTable {
  id: Generated<number>;
  revision: string;
  at: DefaultedTimestamp;
  errors: Json<ErrorInfo[]>;
  resolved_at: Timestamp | null;
  /** The revision whose good render resolved this failure. */
  resolved_by: string | null;
}

export interface ClusterStatusTable {
  cluster: string;
  generation: number;
  revision: string;
  bundle_digest: string;
  observed_revision: string | null;
  sync_state: SyncState;
  health: Health;
  last_error: NullableJson<ErrorInfo>;
  reported_at: Timestamp;
  agent: string;
}

export interface AppStatusTable {
  cluster: string;
  app: string;
  health: Health;
  generation: number;
  updated_at: Timestamp;
}

export interface ObjectStatusTable {
  cluster: string;
  app: string;
  group: string;
  kind: string;
  namespace: string;
  name: string;
  action: ChangeAction;
  reason: string;
  message: string | null;
  health: Health;
  health_reason: string | null;
  images: Json<string[]>;
  generation: number;
  updated_at: Timestamp;
}

export interface DriftEventsTable {
  /** The report id. */
  id: string;
  cluster: string;
  app: string;
  generation: number;
  revision: string;
  group: string;
  kind: string;
  namespace: string;
  name: string;
  paths: Json<DriftPath[]>;
  actor: string;
  changed_at: Timestamp | null;
  detected_at: Timestamp;
  policy: DriftPolicy;
  action: DriftAction;
  agent: string;
  resolved_at: Timestamp | null;
}

export interface HeartbeatsTable {
  cluster: string;
  agent: string;
  at: Timestamp;
  generation: number;
  deadline_seconds: number;
}

export interface IngestedMessagesTable {
  message_id: string;
  subject: string;
  stream_seq: number;
  ingested_at: DefaultedTimestamp;
}

export interface RejectedReportsTable {
  id: Generated<number>;
  message_id: string | null;
  stream_seq: number;
  subject: string;
  error: Json<ErrorInfo>;
  raw: Uint8Array;
  at: DefaultedTimestamp;
}

export interface BreakGlassWindowsTable {
  id: string;
  cluster: string;
  scope: Json<BreakGlassScopeSpec>;
  reason: string;
  author: string;
  started_at: Timestamp;
  expires_at: Timestamp;
  ended_at: Timestamp | null;
  ended_by: string | null;
  end_reason: string | null;
}

export interface BreakGlassAuditTable {
  id: Generated<number>;
  window_id: string;
  cluster: string;
  event: BreakGlassEvent;
  actor: string;
  reason: string | null;
  at: Timestamp;
}

/** The last generation of each cluster's break-glass control record. */
export interface BreakGlassControlTable {
  cluster: string;
  generation: number;
}

export interface ReleasesTable {
  id: string;
  app: string;
  source_revision: string;
  images: Json<ReleaseImage[]>;
  created_by: string;
  created_at: Timestamp;
  note: string | null;
}

/** One planned wave, as stored in promotions.plan. */
export interface StoredWave {
  name: string;
  clusters: string[];
  failureBudget: number;
  soakMs: number;
  pauseMs: number;
}

export interface StoredPlan {
  waves: StoredWave[];
  totalFailureBudget: number;
  progressDeadlineMs: number;
  minHealthyMs: number;
  unknownAfterMs: number;
}

/** One commit a promotion pushed (or found pushed after a crash). */
export interface StoredCommit {
  wave: number;
  revision: string;
  at: string;
}

export interface PromotionsTable {
  id: string;
  app: string;
  environment: string;
  release_id: string;
  kind: PromotionKind;
  rollback_of: string | null;
  state: PromotionState;
  reason: string | null;
  requested_by: string;
  auto: ColumnType<boolean, boolean | undefined, boolean>;
  created_at: Timestamp;
  updated_at: Timestamp;
  finished_at: Timestamp | null;
  plan: Json<StoredPlan>;
  /** Index of the wave running (or next to start); waves before it are done. */
  current_wave: ColumnType<number, number | undefined, number>;
  /** When the current wave's clusters all settled (its soak and pause count from here). */
  wave_settled_at: Timestamp | null;
  commits: ColumnType<StoredCommit[], string | undefined, string>;
  /** The branch head before the first wave commit: a rollback restores the lock files as they were there. */
  base_revision: string | null;
  previous_release_id: string | null;
  gates: ColumnType<GateResult[], string | undefined, string>;
  /** The state a paused promotion resumes into. */
  paused_from: PromotionState | null;
  error: NullableJson<ErrorInfo>;
  attempts: ColumnType<number, number | undefined, number>;
  /** The promotion of a newer release that replaced this one while it was queued (state Superseded). */
  superseded_by: ColumnType<string | null, string | null | undefined, string | null>;
  /** One more on every update; the controller writes only over the version it read (docs/ha.md). */
  version: ColumnType<number, number | undefined, number>;
}

export interface PromotionClustersTable {
  promotion_id: string;
  cluster: string;
  wave: number;
  outcome: ClusterOutcome;
  message: string | null;
  generation: number | null;
  bundle_digest: string | null;
  issued_at: Timestamp | null;
  healthy_since: Timestamp | null;
  changed_at: Timestamp;
  skipped_by: string | null;
}

export interface PromotionApprovalsTable {
  promotion_id: string;
  subject: string;
  groups: Json<string[]>;
  verdict: "approve" | "reject";
  comment: string | null;
  at: Timestamp;
}

export interface PromotionEventsTable {
  id: Generated<number>;
  promotion_id: string;
  type: PromotionEventType;
  actor: string;
  at: Timestamp;
  data: Json<Record<string, unknown>>;
}

export interface PromotionHoldsTable {
  app: string;
  environment: string;
  release_id: string;
  reason: string;
  created_by: string;
  created_at: Timestamp;
}

export interface IdempotencyKeysTable {
  key: string;
  scope: string;
  request_hash: string;
  status: number;
  response: Json<Record<string, unknown>>;
  created_at: Timestamp;
}

export interface FleetSchema {
  clusters: ClustersTable;
  desired_pointers: DesiredPointersTable;
  current_desired_pointers: CurrentDesiredPointersView;
  render_failures: RenderFailuresTable;
  cluster_status: ClusterStatusTable;
  app_status: AppStatusTable;
  object_status: ObjectStatusTable;
  drift_events: DriftEventsTable;
  heartbeats: HeartbeatsTable;
  ingested_messages: IngestedMessagesTable;
  rejected_reports: RejectedReportsTable;
  break_glass_windows: BreakGlassWindowsTable;
  break_glass_audit: BreakGlassAuditTable;
  break_glass_control: BreakGlassControlTable;
  releases: ReleasesTable;
  promotions: PromotionsTable;
  promotion_clusters: PromotionClustersTable;
  promotion_approvals: PromotionApprovalsTable;
  promotion_events: PromotionEventsTable;
  promotion_holds: PromotionHoldsTable;
  idempotency_keys: IdempotencyKeysTable;
}
