// The closed vocabulary shared by agent, hub, API and database. Every status, reason and action
// that crosses a process boundary is one of these constants; the database stores the strings.

/** Agent-reported sync state of a cluster (Unknown when the agent is silent past its deadline). */
export const SyncState = {
  Synced: "Synced",
  OutOfSync: "OutOfSync",
  Applying: "Applying",
  Failed: "Failed",
  Unknown: "Unknown",
} as const;
export type SyncState = (typeof SyncState)[keyof typeof SyncState];

/** Health of an object, aggregated per app and per cluster. */
export const Health = {
  Healthy: "Healthy",
  Progressing: "Progressing",
  Degraded: "Degraded",
  Suspended: "Suspended",
  Missing: "Missing",
  Unknown: "Unknown",
} as const;
export type Health = (typeof Health)[keyof typeof Health];

/** Per-object action in a change set (the result of one apply or prune). */
export const ChangeAction = {
  Created: "created",
  Configured: "configured",
  Unchanged: "unchanged",
  Deleted: "deleted",
  Skipped: "skipped",
  Failed: "failed",
} as const;
export type ChangeAction = (typeof ChangeAction)[keyof typeof ChangeAction];

/** What an app's agent does about drift. */
export const DriftPolicy = {
  /** Revert drift by re-applying the desired state. */
  Enforce: "enforce",
  /** Report drift, do not revert it. */
  Warn: "warn",
  /** Record drift in the ledger only. */
  Observe: "observe",
} as const;
export type DriftPolicy = (typeof DriftPolicy)[keyof typeof DriftPolicy];

/** What the agent did about one drift event. */
export const DriftAction = {
  Reverted: "reverted",
  /** Left in place by policy (warn / observe). */
  Left: "left",
  /** Left in place because a break-glass window covers the object. */
  BlockedByBreakGlass: "blocked-by-break-glass",
  /** Something keeps rewriting the field: reverting is backed off exponentially. */
  Fight: "fight",
  /** The revert failed; see the reason. */
  RevertFailed: "revert-failed",
} as const;
export type DriftAction = (typeof DriftAction)[keyof typeof DriftAction];

/** Break-glass scope kinds. */
export const BreakGlassScope = {
  Cluster: "cluster",
  App: "app",
  Object: "object",
} as const;
export type BreakGlassScope = (typeof BreakGlassScope)[keyof typeof BreakGlassScope];

/** Reasons attached to statuses, change-set entries and errors. */
export const Reason = {
  // apply
  Applied: "Applied",
  NoChange: "NoChange",
  ApplyFailed: "ApplyFailed",
  Forbidden: "Forbidden",
  Invalid: "Invalid",
  ImmutableField: "ImmutableField",
  NamespaceMissing: "NamespaceMissing",
  SkippedByAnnotation: "SkippedByAnnotation",
  CreateOnlyExists: "CreateOnlyExists",
  Pruned: "Pruned",
  PruneSkippedOwner: "PruneSkippedOwner",
  PruneSkippedAnnotation: "PruneSkippedAnnotation",
  /** Listed while its revision is being applied: not applied yet. */
  Pending: "Pending",
  /** Not re-created: deleted out of band while a break-glass window covers it. */
  BlockedByBreakGlass: "BlockedByBreakGlass",
  // desired state
  DigestMismatch: "DigestMismatch",
  SignatureInvalid: "SignatureInvalid",
  StaleGeneration: "StaleGeneration",
  BundleUnavailable: "BundleUnavailable",
  // render
  RenderFailed: "RenderFailed",
  // health (kstatus-like)
  Current: "Current",
  InProgress: "InProgress",
  LessReplicas: "LessReplicas",
  DeploymentNotAvailable: "DeploymentNotAvailable",
  ProgressDeadlineExceeded: "ProgressDeadlineExceeded",
  JobFailed: "JobFailed",
  Terminating: "Terminating",
  NotFound: "NotFound",
  LatestGenerationNotObserved: "LatestGenerationNotObserved",
  LessUpdated: "LessUpdated",
  LessReady: "LessReady",
  LessAvailable: "LessAvailable",
  ExtraPods: "ExtraPods",
  Suspended: "Suspended",
  PodFailed: "PodFailed",
  CrashLoopBackOff: "CrashLoopBackOff",
  ImagePullBackOff: "ImagePullBackOff",
  NotReady: "NotReady",
  Stalled: "Stalled",
  NotBound: "NotBound",
  LoadBalancerPending: "LoadBalancerPending",
  NotEstablished: "NotEstablished",
  NamesNotAccepted: "NamesNotAccepted",
  // apply (kube)
  UnknownKind: "UnknownKind",
  Conflict: "Conflict",
  CrdNotEstablished: "CrdNotEstablished",
  PruneFailed: "PruneFailed",
} as const;
export type Reason = (typeof Reason)[keyof typeof Reason];

/** Kinds of report an agent publishes on JetStream. */
export const ReportKind = {
  Status: "status",
  Drift: "drift",
  Heartbeat: "heartbeat",
} as const;
export type ReportKind = (typeof ReportKind)[keyof typeof ReportKind];

export const values = <T extends Record<string, string>>(o: T): T[keyof T][] =>
  Object.values(o) as T[keyof T][];
