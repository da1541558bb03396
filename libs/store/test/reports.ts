// Report builders for store and hub tests: valid by default, overridable per field.
import { randomUUID } from "node:crypto";
import type { DriftReport, HeartbeatReport, StatusReport } from "@flotilla/model";

export const DIGEST_A = `sha256:${"a".repeat(64)}`;
export const DIGEST_B = `sha256:${"b".repeat(64)}`;
export const REV_1 = "1".repeat(40);
export const REV_2 = "2".repeat(40);

export function statusReport(over: Partial<StatusReport> = {}): StatusReport {
  return {
    id: randomUUID(),
    kind: "status",
    cluster: "prod-eu-1",
    agent: "prod-eu-1/agent-0/1",
    at: new Date().toISOString(),
    generation: 1,
    revision: REV_1,
    bundleDigest: DIGEST_A,
    observedRevision: REV_1,
    syncState: "Synced",
    health: "Healthy",
    apps: [
      {
        name: "shop",
        health: "Healthy",
        objects: [
          {
            ref: { group: "apps", kind: "Deployment", namespace: "shop", name: "inventory-api" },
            action: "configured",
            reason: "Applied",
            health: "Healthy",
            healthReason: "Current",
            images: ["registry.example/inventory-api@sha256:" + "c".repeat(64)],
          },
          {
            ref: { group: "", kind: "Service", namespace: "shop", name: "inventory-api" },
            action: "unchanged",
            reason: "NoChange",
            health: "Healthy",
          },
        ],
      },
    ],
    ...over,
  };
}

export function driftReport(over: Partial<DriftReport> = {}): DriftReport {
  return {
    id: randomUUID(),
    kind: "drift",
    cluster: "prod-eu-1",
    agent: "prod-eu-1/agent-0/1",
    at: new Date().toISOString(),
    generation: 1,
    revision: REV_1,
    app: "shop",
    object: { group: "apps", kind: "Deployment", namespace: "shop", name: "inventory-api" },
    paths: [{ path: "/spec/replicas", desired: 3, live: 5 }],
    actor: "kubectl-edit",
    changedAt: new Date().toISOString(),
    policy: "warn",
    action: "left",
    ...over,
  };
}

export function heartbeatReport(over: Partial<HeartbeatReport> = {}): HeartbeatReport {
  return {
    id: randomUUID(),
    kind: "heartbeat",
    cluster: "prod-eu-1",
    agent: "prod-eu-1/agent-0/1",
    at: new Date().toISOString(),
    generation: 1,
    deadlineSeconds: 30,
    ...over,
  };
}

let seq = 0;
/** Ingest metadata for a report, as the hub's consumer would pass it. */
export const metaOf = (r: { id: string; cluster: string; kind: string }) => ({
  messageId: r.id,
  subject: `flotilla.report.${r.cluster}.${r.kind}`,
  streamSeq: ++seq,
});
