// The answers of GET /v1/explain: why a cluster is (not) running an app at a revision. One closed
// vocabulary, so scripts can branch on the reason and people read the message.
export const ExplainReason = {
  AtRevision: "AtRevision",
  ContentUnchanged: "ContentUnchanged",
  AppNotSelected: "AppNotSelected",
  RenderFailed: "RenderFailed",
  NotResolved: "NotResolved",
  HeldByPromotion: "HeldByPromotion",
  FreezeWindow: "FreezeWindow",
  AgentOffline: "AgentOffline",
  NotApplied: "NotApplied",
  ApplyFailed: "ApplyFailed",
  Degraded: "Degraded",
  DriftOpen: "DriftOpen",
  BreakGlass: "BreakGlass",
} as const;
export type ExplainReason = (typeof ExplainReason)[keyof typeof ExplainReason];

export interface ExplainFinding {
  reason: ExplainReason;
  message: string;
  /** The rows the finding rests on (pointer, report, promotion, drift event, window…). */
  evidence: Record<string, unknown>;
}
