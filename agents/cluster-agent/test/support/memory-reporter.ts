// An in-memory Reporter that records every report in order, for assertions.
import type { DriftBody, HeartbeatBody, Reporter, StatusBody } from "../../src/ports.js";

export type Recorded =
  | { kind: "status"; body: StatusBody; at: number }
  | { kind: "drift"; body: DriftBody; at: number }
  | { kind: "heartbeat"; body: HeartbeatBody; at: number };

export class MemoryReporter implements Reporter {
  readonly reports: Recorded[] = [];

  status(body: StatusBody): void {
    this.reports.push({ kind: "status", body: structuredClone(body), at: Date.now() });
  }
  drift(body: DriftBody): void {
    this.reports.push({ kind: "drift", body: structuredClone(body), at: Date.now() });
  }
  heartbeat(body: HeartbeatBody): void {
    this.reports.push({ kind: "heartbeat", body: structuredClone(body), at: Date.now() });
  }
  async flush(): Promise<void> {}
  pending(): number {
    return 0;
  }
  async stop(): Promise<void> {}

  get statuses(): StatusBody[] {
    return this.reports.flatMap((r) => (r.kind === "status" ? [r.body] : []));
  }
  get drifts(): DriftBody[] {
    return this.reports.flatMap((r) => (r.kind === "drift" ? [r.body] : []));
  }
  lastStatus(): StatusBody | undefined {
    return this.statuses.at(-1);
  }
  /** Everything reported, as one string (for "never contains the secret" checks). */
  text(): string {
    return JSON.stringify(this.reports);
  }
}
