// The drift report the HA and fault tests publish by the hundred to probe ingestion: each names a
// different ConfigMap (probe-<index>), so every report is its own ledger row and a lost or doubled
// one shows in a count.
import { randomUUID } from "node:crypto";
import type { DriftReport } from "@flotilla/model";

export interface DriftProbe {
  cluster: string;
  /** Which probe: the object is ConfigMap default/probe-<index>. */
  index: number;
  app?: string;
  /** Who made the drift, as the ledger records it. */
  actor?: string;
}

export function driftProbeReport({ cluster, index, app = "probe", actor = "probe" }: DriftProbe): DriftReport {
  return {
    id: randomUUID(),
    kind: "drift",
    cluster,
    agent: `${cluster}/probe/1`,
    at: new Date().toISOString(),
    generation: 1,
    revision: "0".repeat(40),
    app,
    object: { group: "", kind: "ConfigMap", namespace: "default", name: `probe-${index}` },
    paths: [{ path: "/data/value", desired: "v", live: `x${index}` }],
    actor,
    policy: "warn",
    action: "left",
  };
}
