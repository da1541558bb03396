// An in-memory Reporter that records every report in order, for assertions.
import type { DriftBody, HeartbeatBody, Reporter, StatusBody } from "../../src/ports.js";

export type Recorded =
  | { kind: "status"; body: StatusBody; at: number }
  | { kind: "drift"; body: DriftBody; at: number }
  | { kind: "heartbeat"; body: HeartbeatBody; at: number };

export class MemoryReporter implements Reporter {
  readonly reports: Recorded[] = [];
  /** Called synchronously with each report, e.g. to act at an exact point of the loop. */
  onReport: ((r: Recorded) => void) | undefined;

  private record(r: Recorded): void {
    this.reports.push(r);
    this.onReport?.(r);
  }

  status(body: StatusBody): void {
    this.record({ kind: "status", body: structuredClone(body), at: Date.now() });
  }
  drift(body: DriftBody): void {
    this.record({ kind: "drift", body: structuredClone(body), at: Date.now() });
  }
  heartbeat(body: HeartbeatBody): void {
    this.record({ kind: "heartbeat", body: structuredClone(body), at: Date.now() });
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
