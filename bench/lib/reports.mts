// Agent reports as the cluster agent publishes them (libs/model's Report, JSON on
// `<prefix>.report.<cluster>.<kind>` with the report id as Nats-Msg-Id), generated for a fleet of
// N cluster identities in a fixed order, so two runs (or the ingest and the raw ceiling) see the
// same rows.
import { randomUUID } from "node:crypto";
import type { DriftReport, HeartbeatReport, Report, StatusReport } from "@flotilla/model";

export interface ReportMix {
  heartbeat: number;
  status: number;
  drift: number;
}

/** "5:4:1" → heartbeat 5, status 4, drift 1 parts. */
export function parseMix(text: string): ReportMix {
  const [heartbeat = 0, status = 0, drift = 0] = text.split(":").map(Number);
  if (![heartbeat, status, drift].every((n) => Number.isInteger(n) && n >= 0) || heartbeat + status + drift === 0) {
    throw new Error(`--mix ${text}: expected heartbeat:status:drift parts, e.g. 5:4:1`);
  }
  return { heartbeat, status, drift };
}

export const clusterName = (i: number): string => `c-${String(i).padStart(4, "0")}`;

/** Round-robin over the clusters; the kind follows the mix, interleaved. */
export class ReportGenerator {
  private n = 0;
  private readonly pattern: Report["kind"][];
  private readonly generations: number[];

  constructor(
    private readonly clusters: number,
    mix: ReportMix,
    private readonly objectsPerStatus: number,
  ) {
    this.generations = new Array<number>(clusters).fill(0);
    const total = mix.heartbeat + mix.status + mix.drift;
    // Spread each kind evenly over one pattern period (Bresenham-like).
    this.pattern = [];
    const acc = { heartbeat: 0, status: 0, drift: 0 };
    for (let i = 0; i < total; i++) {
      acc.heartbeat += mix.heartbeat;
      acc.status += mix.status;
      acc.drift += mix.drift;
      const kind = (["heartbeat", "status", "drift"] as const).reduce((a, b) => (acc[b] > acc[a] ? b : a));
      acc[kind] -= total;
      this.pattern.push(kind);
    }
  }

  next(): Report {
    const i = this.n % this.clusters;
    const kind = this.pattern[Math.floor(this.n / this.clusters) % this.pattern.length]!;
    this.n++;
    const cluster = clusterName(i);
    const header = { id: randomUUID(), cluster, agent: `${cluster}/bench-agent/1`, at: new Date().toISOString() };
    const app = `app-${i}`;
    if (kind === "status") {
      const generation = ++this.generations[i]!;
      const report: StatusReport = {
        ...header,
        kind,
        generation,
        revision: generation.toString(16).padStart(40, "0"),
        bundleDigest: `sha256:${generation.toString(16).padStart(64, "0")}`,
        observedRevision: generation.toString(16).padStart(40, "0"),
        syncState: "Synced",
        health: "Healthy",
        apps: [
          {
            name: app,
            health: "Healthy",
            objects: Array.from({ length: this.objectsPerStatus }, (_, k) => ({
              ref: { group: k % 2 ? "" : "apps", kind: k % 2 ? "ConfigMap" : "Deployment", namespace: app, name: `obj-${k}` },
              action: "configured" as const,
              reason: "Applied",
              health: "Healthy" as const,
              ...(k % 2 ? {} : { images: ["nginx@sha256:" + "b".repeat(64)] }),
            })),
          },
        ],
      };
      return report;
    }
    const generation = Math.max(1, this.generations[i]!);
    if (kind === "drift") {
      const report: DriftReport = {
        ...header,
        kind,
        generation,
        revision: generation.toString(16).padStart(40, "0"),
        app,
        object: { group: "apps", kind: "Deployment", namespace: app, name: "obj-0" },
        paths: [{ path: "/spec/replicas", desired: 2, live: 3 }],
        actor: "kubectl-scale",
        changedAt: header.at,
        policy: "enforce",
        action: "reverted",
      };
      return report;
    }
    const report: HeartbeatReport = { ...header, kind, generation, deadlineSeconds: 30 };
    return report;
  }
}
