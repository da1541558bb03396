// The API's response bodies as types, for clients (the CLI) and tests. docs/api.md describes them.
import type { ErrorInfo } from "@flotilla/model";
import type { ClusterDetail, DriftEventView, RenderFailureRecord } from "@flotilla/store";
import type { clusterSummary } from "./cluster-summary.js";

/** An item of GET /v1/clusters. */
export type ClusterSummaryBody = ReturnType<typeof clusterSummary>;

/** GET /v1/clusters/:name. */
export type ClusterDetailBody = ClusterSummaryBody & {
  reported: ClusterDetail["reported"];
  heartbeat: ClusterDetail["lastHeartbeat"];
  apps: ClusterDetail["apps"];
};

/** An item of GET /v1/drift. */
export type DriftEventBody = DriftEventView;

/** GET /v1/render-failures. */
export interface RenderFailuresBody {
  latest: RenderFailureRecord | null;
}

/** An item of GET /v1/rejected-reports. */
export interface RejectedReportBody {
  messageId: string | null;
  subject: string;
  streamSeq: number;
  error: ErrorInfo;
  at: string;
  rawText: string | null;
  rawBase64: string;
}

/** POST /v1/refresh (200, on the leader). */
export interface RefreshBody {
  revision: string;
  published: number;
}

/** POST /v1/refresh (202, on a follower: the leader was asked to refresh). */
export interface RefreshHandedOffBody {
  handedOff: true;
  leader: string;
}

/** GET /readyz. */
export interface ReadyBody {
  status: "ready" | "not-ready";
  checks: Record<string, boolean>;
  /** This replica's role (absent without a running hub). */
  role?: "leader" | "follower";
  /** The leading replica's identity; null while none leads. */
  leader?: string | null;
}

/** Every error response. */
export interface ErrorBody {
  error: ErrorInfo;
}
