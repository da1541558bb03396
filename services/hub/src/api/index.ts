export { buildApi, type ApiOptions } from "./build-api.js";
export type { MetricsHandler } from "./routes/metrics.js";
export type { HubControl } from "./hub-control.js";
export {
  MAX_BREAK_GLASS_TTL_SECONDS,
  type BreakGlassOperations,
  type BreakGlassStart,
  type BreakGlassEnd,
  type BreakGlassChange,
} from "./break-glass-operations.js";
export { ACTOR_HEADER } from "./routes/break-glass.js";
export type { ApiAuth } from "./bearer-auth.js";
export type {
  ClusterSummaryBody,
  ClusterDetailBody,
  DriftEventBody,
  RenderFailuresBody,
  RejectedReportBody,
  RefreshBody,
  ReadyBody,
  ErrorBody,
} from "./responses.js";
