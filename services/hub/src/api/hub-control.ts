import type { BreakGlassOperations } from "./break-glass-operations.js";

/** A refresh: resolved here (the leader), or handed to the leader by a follower (docs/ha.md). */
export type RefreshResult = { revision: string; published: number } | { handedOff: true; leader: string };

/** What the API may ask of the running hub. The hub implements it; tests may pass their own. */
export interface HubControl {
  /** Fetch the env repo now, render and publish; resolves with the revision and how many desired
   * pointers were published — or, on a follower, once the request was handed to the leader. */
  refresh(): Promise<RefreshResult>;
  /** True once the hub has rendered and published at least once and its connections are up. */
  ready(): boolean;
  /** This replica's role among the hub's replicas, and who leads (docs/ha.md); GET /readyz shows it. */
  role?(): Promise<{ role: "leader" | "follower"; leader: string | null }>;
  /** Break-glass windows; without it the break-glass routes do not exist. */
  breakGlass?: BreakGlassOperations;
}
