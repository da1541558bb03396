// Promotion: releases move through the fleet file's pipeline of environments as Git commits, in
// waves across each environment's clusters, behind gates (docs/promotion.md). These types are the
// contract shared by the fleet file parser, the pure promotion engine (@flotilla/promotion), the
// hub's promotion controller, the store, the API and the CLI. Vocabulary values are the strings
// stored in Postgres and sent over HTTP.

/** One release: immutable once created. */
export interface Release {
  /** `rel-<app>-<12 hex of sha256(app, sourceRevision, images)>`: the same inputs give the same id. */
  id: string;
  app: string;
  /** The commit of the app's source (CI's build commit) the release was built from. */
  sourceRevision: string;
  /** Image references pinned by the release, e.g. `{ name: "ghcr.io/acme/shop", digest: "sha256:…" }`. */
  images: ReleaseImage[];
  createdBy: string;
  createdAt: string;
  /** Free text from the requester (CI build URL, changelog line). */
  note?: string;
}

export interface ReleaseImage {
  /** Image name without tag or digest, as it appears in manifests (`ghcr.io/acme/shop`). */
  name: string;
  /** `sha256:<64 hex>`; absent only for a tag-only image, refused where `digestOnly` holds. */
  digest?: string;
  tag?: string;
}

/** A freeze window: absolute (start/end) or weekly (days + from/to, UTC). */
export interface FreezeWindow {
  name?: string;
  /** `deny`: no promotion waves start inside the window; `allow`: waves start only inside allow windows. */
  kind: "deny" | "allow";
  start?: string;
  end?: string;
  /** Weekly recurrence: `mon`…`sun`, with `from`/`to` as `HH:MM` UTC. */
  days?: string[];
  from?: string;
  to?: string;
  /** Rollback promotions pass a deny window unless this is false (default true). */
  allowRollback?: boolean;
}

/** One wave of an environment's rollout. Exactly one of `clusters`, `selector`, `percent`. */
export interface WaveSpec {
  name?: string;
  clusters?: string[];
  selector?: { matchLabels: Record<string, string> };
  /** Cumulative share of the environment's clusters reached by the end of this wave (1–100). */
  percent?: number;
  /** Clusters that may fail in this wave before the promotion halts (default 0). */
  failureBudget?: number;
  /** After the wave succeeded, wait this long (ms) before the next wave. */
  pauseMs?: number;
  /** The wave's clusters stay Succeeded this long (ms) before the wave counts as done. */
  soakMs?: number;
}

export interface RolloutSpec {
  waves: WaveSpec[];
  /** Failed clusters across the whole promotion before it halts (default: sum of wave budgets). */
  totalFailureBudget?: number;
  /** A cluster that is not Succeeded this long (ms) after its pointer was issued is TimedOut. */
  progressDeadlineMs: number;
  /** Applied + Healthy continuously this long (ms) before a cluster is Succeeded. */
  minHealthyMs: number;
  /** An agent silent this long (ms) while its wave runs is Unknown (never a success). */
  unknownAfterMs: number;
}

export interface ApprovalPolicy {
  count: number;
  /** When given, an approver must belong to one of these groups. */
  groups?: string[];
  /** Default false: the requester of a promotion cannot approve it. */
  allowSelfApproval?: boolean;
}

/** `environments[].promotion` in the fleet file. */
export interface PromotionPolicy {
  /** Environments a release must have Succeeded in first (empty: entry environment). */
  from: string[];
  /** Start a promotion here as soon as the gates can pass (default false). */
  autoPromote: boolean;
  /** A release must have Succeeded in every upstream env at least this long (ms). */
  soakMs: number;
  approvals: ApprovalPolicy;
  freeze: FreezeWindow[];
  /** Refuse releases whose images are not pinned by digest (IMAGE_NOT_PINNED). */
  digestOnly: boolean;
  rollout: RolloutSpec;
}

/** A promotion's state (one release into one environment). */
export const PromotionState = {
  Pending: "Pending",
  Running: "Running",
  Verifying: "Verifying",
  Paused: "Paused",
  Halted: "Halted",
  Succeeded: "Succeeded",
  SucceededWithExceptions: "SucceededWithExceptions",
  Aborted: "Aborted",
  Rejected: "Rejected",
  Cancelled: "Cancelled",
  Superseded: "Superseded",
  Errored: "Errored",
} as const;
export type PromotionState = (typeof PromotionState)[keyof typeof PromotionState];

/** States a promotion never leaves. */
export const TERMINAL_PROMOTION_STATES: readonly PromotionState[] = [
  PromotionState.Succeeded,
  PromotionState.SucceededWithExceptions,
  PromotionState.Aborted,
  PromotionState.Rejected,
  PromotionState.Cancelled,
  PromotionState.Superseded,
];

/** One cluster's outcome within a promotion. */
export const ClusterOutcome = {
  Pending: "Pending",
  Issued: "Issued",
  Progressing: "Progressing",
  Succeeded: "Succeeded",
  Failed: "Failed",
  TimedOut: "TimedOut",
  Unknown: "Unknown",
  Skipped: "Skipped",
  Regressed: "Regressed",
} as const;
export type ClusterOutcome = (typeof ClusterOutcome)[keyof typeof ClusterOutcome];

/** Outcomes that count against a failure budget. */
export const FAILED_OUTCOMES: readonly ClusterOutcome[] = [ClusterOutcome.Failed, ClusterOutcome.TimedOut, ClusterOutcome.Regressed];

/** A gate's verdict. */
export const GateVerdict = { Pass: "pass", Pending: "pending", Fail: "fail" } as const;
export type GateVerdict = (typeof GateVerdict)[keyof typeof GateVerdict];

export const GateKind = {
  Upstream: "upstream",
  Soak: "soak",
  Approval: "approval",
  Freeze: "freeze",
  DigestOnly: "digest-only",
  Hold: "hold",
} as const;
export type GateKind = (typeof GateKind)[keyof typeof GateKind];

export interface GateResult {
  gate: GateKind;
  verdict: GateVerdict;
  /** Why, in a sentence a person reads. */
  message: string;
  /** When a pending gate may pass on its own (soak end, freeze end). */
  until?: string;
}

/** What started a promotion. */
export const PromotionKind = { Promote: "promote", Rollback: "rollback" } as const;
export type PromotionKind = (typeof PromotionKind)[keyof typeof PromotionKind];

/** Events a promotion emits (stored, streamed over SSE, counted in metrics). */
export const PromotionEventType = {
  Created: "created",
  GateChanged: "gate-changed",
  Approved: "approved",
  Rejected: "rejected",
  WaveStarted: "wave-started",
  WaveCommitted: "wave-committed",
  PointersIssued: "pointers-issued",
  ClusterChanged: "cluster-changed",
  WaveSucceeded: "wave-succeeded",
  StateChanged: "state-changed",
  ClusterSkipped: "cluster-skipped",
  RolledBack: "rolled-back",
} as const;
export type PromotionEventType = (typeof PromotionEventType)[keyof typeof PromotionEventType];

/** Git commit trailers of promotion commits (parsed back after a crash). */
export const PromotionTrailer = {
  Promotion: "Flotilla-Promotion",
  Release: "Flotilla-Release",
  Wave: "Flotilla-Wave",
  ApprovedBy: "Flotilla-Approved-By",
  RollbackOf: "Flotilla-Rollback-Of",
} as const;

/** Lock files in the env repo that pin a release for an environment or one cluster. */
export const PROMOTIONS_DIR = "promotions";
export const envLockPath = (app: string, env: string): string => `${PROMOTIONS_DIR}/${app}/${env}.lock.yaml`;
export const clusterLockPath = (app: string, env: string, cluster: string): string => `${PROMOTIONS_DIR}/${app}/${env}/${cluster}.lock.yaml`;

/** The content of a lock file (YAML in Git). */
export interface ReleaseLock {
  apiVersion: "flotilla.dev/v1alpha1";
  kind: "ReleaseLock";
  app: string;
  environment: string;
  cluster?: string;
  release: string;
  sourceRevision: string;
  images: ReleaseImage[];
  promotion: string;
}
