// The bodies of the promotion API as the CLI reads them (services/hub/src/api/routes/promotions.ts,
// docs/promotion.md#api). Only what the tables show is typed; -o json prints the body as it came.
import type { FreezeWindow, GateResult, Release, WaveSpec } from "@flotilla/model";

export interface PromotionSummary {
  id: string;
  app: string;
  environment: string;
  releaseId: string;
  kind: "promote" | "rollback";
  rollbackOf?: string;
  state: string;
  /** Set when the state is Superseded: the promotion of a newer release that replaced this one. */
  supersededBy?: string;
  reason: string | null;
  requestedBy: string;
  auto: boolean;
  currentWave: number;
  waveCount: number;
  createdAt: string;
  updatedAt: string;
  finishedAt: string | null;
}

export interface PromotionClusterView {
  cluster: string;
  outcome: string;
  message: string | null;
  generation: number | null;
  bundleDigest: string | null;
  issuedAt: string | null;
  healthySince: string | null;
  skippedBy?: string;
}

export interface WaveView {
  index: number;
  name: string;
  state: string;
  failureBudget: number;
  failed: number;
  soak: string;
  pause: string;
  commit: string | null;
  clusters: PromotionClusterView[];
}

export interface PromotionDetail extends PromotionSummary {
  release: Release | string;
  gates: GateResult[];
  approvals: { subject: string; groups: string[]; verdict: string; comment?: string; at: string }[];
  waves: WaveView[];
  budget: { totalFailureBudget: number; failed: number; remaining: number };
  rollout: { progressDeadline: string; minHealthy: string; unknownAfter: string };
  commits: { wave: number; revision: string; at: string }[];
  baseRevision: string | null;
  previousRelease: string | null;
  error?: { code: string; message: string };
}

export interface EnvironmentView {
  name: string;
  from: string[];
  autoPromote: boolean;
  soak: string;
  approvals: { count: number; groups?: string[]; allowSelfApproval?: boolean };
  digestOnly: boolean;
  waves: WaveSpec[];
  clusters: string[];
  freeze: { blocked: boolean; window?: FreezeWindow; until?: string; windows: FreezeWindow[] };
  releases: Record<string, string | null>;
  holds: { app: string; environment: string; releaseId: string; reason: string; createdBy: string; createdAt: string }[];
  promotions: PromotionSummary[];
}

export interface ReleaseCreated {
  release: Release;
  created: boolean;
  promotions: PromotionSummary[];
}

/** One server-sent event of GET /v1/promotion-events (its `data`). */
export interface PromotionEvent {
  id: number;
  promotionId: string;
  type: string;
  actor: string;
  at: string;
  data: Record<string, unknown>;
}
