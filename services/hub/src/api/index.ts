export { buildApi, type ApiOptions, type RouteEntry } from "./build-api.js";
export type { MetricsHandler } from "./routes/metrics.js";
export type { GitWebhookOptions, GitWebhookAnswer, GitProvider } from "./routes/git-webhook.js";
export type { HubControl } from "./hub-control.js";
export {
  MAX_BREAK_GLASS_TTL_SECONDS,
  type BreakGlassOperations,
  type BreakGlassStart,
  type BreakGlassEnd,
  type BreakGlassChange,
} from "./break-glass-operations.js";
export { ACTOR_HEADER } from "./routes/break-glass.js";
export { INSECURE_NO_AUTH_WARNING, type ApiAuth } from "./bearer-auth.js";
export { ApiTokenRegistry, API_TOKEN_PREFIX, apiTokenDigest, mintApiToken, parseApiTokensFile, serializeApiTokensFile, type ApiTokenEntry, type ApiTokenGrant } from "./api-tokens.js";
export { DEFAULT_AUTH_FAILURE_LIMIT, type AuthFailureLimit } from "./auth-failures.js";
export { Role, INSECURE_PRINCIPAL, type Principal } from "./principal.js";
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
