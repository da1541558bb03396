import type { BreakGlassOperations } from "./break-glass-operations.js";

/** What the API may ask of the running hub. The hub implements it; tests may pass their own. */
export interface HubControl {
  /** Fetch the env repo now, render and publish; resolves with the revision and how many desired
   * pointers were published. */
  refresh(): Promise<{ revision: string; published: number }>;
  /** True once the hub has rendered and published at least once and its connections are up. */
  ready(): boolean;
  /** Break-glass windows; without it the break-glass routes do not exist. */
  breakGlass?: BreakGlassOperations;
}
