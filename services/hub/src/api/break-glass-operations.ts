// What the break-glass routes ask of the running hub: the hub records the change, writes the audit
// row and publishes the cluster's signed control record (services/hub/src/break-glass.ts).
import type { BreakGlassScopeSpec, BreakGlassWindow } from "@flotilla/model";

/** Longest break-glass window the API accepts: enforcement is never suspended for more than a day. */
export const MAX_BREAK_GLASS_TTL_SECONDS = 24 * 60 * 60;

export interface BreakGlassStart {
  scope: BreakGlassScopeSpec;
  reason: string;
  author: string;
  expiresAt: Date;
}

export interface BreakGlassEnd {
  actor: string;
  reason?: string;
}

/** A window as the API returns it after a change, with the control record that carried it. */
export type BreakGlassChange = BreakGlassWindow & {
  /** Generation of the control record published for the change; null when publishing failed
   * (NATS away): the hub retries every sweep until it succeeds. */
  controlGeneration: number | null;
};

export interface BreakGlassOperations {
  /** Opens a window on a cluster of the fleet (NotFound for any other cluster). */
  start(cluster: string, request: BreakGlassStart): Promise<BreakGlassChange>;
  /** Ends a window early (NotFound when the cluster has no such window). A window that already
   * ended or expired is returned as it is, and nothing is written. */
  end(cluster: string, id: string, by: BreakGlassEnd): Promise<BreakGlassChange>;
}
