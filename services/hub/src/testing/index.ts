// Helpers for tests of code that talks to the hub (not used by the product).
export { driftProbeReport, type DriftProbe } from "./drift-probe.js";
export {
  callHub,
  SHOP_DEPLOYMENT,
  startPromotionFixture,
  startStandInAgents,
  type FixtureDatabase,
  type FixtureNats,
  type HeldPointer,
  type PromotionCommit,
  type PromotionFixture,
  type PromotionFixtureOptions,
  type StandInAgents,
  type StandInAgentsOptions,
  type StandInBehaviour,
} from "./promotion-fixture.js";
