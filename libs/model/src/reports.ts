// Reports an agent publishes over JetStream and the hub ingests into Postgres.
import type { ErrorInfo } from "./errors.js";
import type { ObjectRef } from "./objects.js";
import type { ChangeAction, DriftAction, DriftPolicy, Health, SyncState } from "./vocabulary.js";

/** Fields every report carries. `id` is the JetStream message id (de-duplication key). */
export interface ReportHeader {
  id: string;
  cluster: string;
  /** Agent identity: `<cluster>/<hostname or pod>/<pid>`. */
  agent: string;
  /** When the agent produced the report (ISO-8601). */
  at: string;
}

export interface ObjectStatus {
  ref: ObjectRef;
  action: ChangeAction;
  reason: string;
  message?: string;
  health: Health;
  healthReason?: string;
  /** Container image references (digest-pinned where the bundle pins them). */
  images?: string[];
}

export interface AppStatus {
  name: string;
  health: Health;
  objects: ObjectStatus[];
}

export interface StatusReport extends ReportHeader {
  kind: "status";
  /** The pointer this status describes. Status for an older generation never counts for a newer one. */
  generation: number;
  revision: string;
  bundleDigest: string;
  /** Revision whose bundle is fully applied (absent until the first full apply). */
  observedRevision?: string;
  syncState: SyncState;
  health: Health;
  apps: AppStatus[];
  lastError?: ErrorInfo;
}

export interface DriftPath {
  /** JSON pointer of the field, e.g. `/spec/replicas`. */
  path: string;
  desired: unknown;
  live: unknown;
}

export interface DriftReport extends ReportHeader {
  kind: "drift";
  generation: number;
  revision: string;
  app: string;
  object: ObjectRef;
  paths: DriftPath[];
  /** Field manager that last changed the drifted fields (from managedFields). */
  actor: string;
  /** When the actor changed them (managedFields time), ISO-8601. */
  changedAt?: string;
  policy: DriftPolicy;
  action: DriftAction;
}

export interface HeartbeatReport extends ReportHeader {
  kind: "heartbeat";
  generation: number;
  /** Seconds after which the hub marks the cluster Unknown if no heartbeat arrives. */
  deadlineSeconds: number;
}

export type Report = StatusReport | DriftReport | HeartbeatReport;
