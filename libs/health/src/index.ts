export { computeHealth } from "./compute-health.js";
export { aggregateHealth, healthSeverity } from "./aggregate.js";
export { HealthReason } from "./reasons.js";
export type { HealthResult } from "./result.js";
