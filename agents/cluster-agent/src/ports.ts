// The agent's two seams to the hub side. The reconciler (reconciler.ts) sees only these
// interfaces; nats-desired-state.ts and nats-reporter.ts implement them over NATS, and tests may
// drive the reconciler with in-memory implementations.
import type { Bundle, DriftReport, ErrorInfo, HeartbeatReport, SignedPointer, StatusReport } from "@flotilla/model";

/** A pointer whose signature verified and the bundle whose bytes matched its digest. */
export interface VerifiedDesired {
  pointer: SignedPointer;
  bundle: Bundle;
}

/** Why a pointer or bundle was refused; reported to the hub in status.lastError. */
export interface Refusal {
  pointer?: Partial<SignedPointer>;
  error: ErrorInfo;
}

export interface DesiredStateSource {
  /**
   * Starts watching the cluster's desired pointer. `onDesired` is called with every newly verified
   * desired state (generation strictly higher than the last accepted one); `onRefused` with every
   * pointer or bundle refused (bad signature, digest mismatch, stale generation, unavailable).
   * On start, the last verified desired state from the local cache (if any) is delivered first, so
   * the agent keeps enforcing it while NATS or the hub is away.
   */
  start(handlers: { onDesired(d: VerifiedDesired): void; onRefused(r: Refusal): void }): Promise<void>;
  /** The last verified desired state (from NATS or the local cache). */
  current(): VerifiedDesired | undefined;
  stop(): Promise<void>;
}

/** Report bodies without the header fields the reporter fills in (id, cluster, agent, at, kind). */
export type StatusBody = Omit<StatusReport, "id" | "cluster" | "agent" | "at" | "kind">;
export type DriftBody = Omit<DriftReport, "id" | "cluster" | "agent" | "at" | "kind">;
export type HeartbeatBody = Omit<HeartbeatReport, "id" | "cluster" | "agent" | "at" | "kind">;

export interface Reporter {
  /**
   * Queue a report for at-least-once delivery on JetStream with a message id (de-duplicated by the
   * server and by the hub). Never throws and never drops: while NATS is away reports are buffered
   * (bounded on disk/memory as documented) and delivered in order when it returns.
   */
  status(body: StatusBody): void;
  drift(body: DriftBody): void;
  heartbeat(body: HeartbeatBody): void;
  /** Resolves when every queued report has been acknowledged by JetStream. */
  flush(): Promise<void>;
  /** Number of reports queued but not yet acknowledged. */
  pending(): number;
  stop(): Promise<void>;
}
