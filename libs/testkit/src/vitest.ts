// Test-only helpers (they import vitest): `@flotilla/testkit/vitest`. Everything else, the
// control-plane harness included, is in the main entry so the demo can use it without vitest.
export { useSharedControlPlane, type SharedControlPlane, type SharedPlaneInfo } from "./shared-plane.js";
