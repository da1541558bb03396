export { buildApi, type ApiOptions } from "./build-api.js";
export type { HubControl } from "./hub-control.js";
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
