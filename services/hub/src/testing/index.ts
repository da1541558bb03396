// Helpers for tests of code that talks to the hub (not used by the product).
export { driftProbeReport, type DriftProbe } from "./drift-probe.js";
