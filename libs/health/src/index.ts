export { computeHealth } from "./compute-health.js";
export { aggregateHealth, healthSeverity } from "./aggregate.js";
export type { HealthResult } from "./result.js";
