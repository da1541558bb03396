// The two guards the promotion controller writes through when several hub replicas share one
// database (docs/ha.md#the-promotion-fence): a promotion row is updated only over the version it
// was read at, and an event recorded "once" per key is recorded once however often it is asked.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PromotionEventType, PromotionKind, PromotionState } from "@flotilla/model";
import { insertPromotion, listPromotionEvents, recordPromotionEventOnce, recordRelease, updatePromotion, type FleetDatabase } from "../src/index.js";
import { engines } from "./engines.js";

const AT = new Date("2026-12-07T12:00:00.000Z");
const plan = { waves: [], totalFailureBudget: 0, progressDeadlineMs: 0, minHealthyMs: 0, unknownAfterMs: 0 };

describe.each(engines)("promotion writes on $name", (engine) => {
  let fleet: FleetDatabase;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ fleet, cleanup } = await engine.open("promotion_writes"));
    await recordRelease(fleet.db, { id: "rel-shop-1", app: "shop", sourceRevision: "a1", images: [], createdBy: "erin", createdAt: AT.toISOString() });
  });
  afterEach(() => cleanup());

  it("updates a promotion only over the version it was read at; every update adds one", async () => {
    const { db } = fleet;
    const row = await insertPromotion(db, { id: "prm-1", app: "shop", environment: "dev", releaseId: "rel-shop-1", kind: PromotionKind.Promote, requestedBy: "erin", plan, at: AT });
    expect(row.version).toBe(0);
    // Two replicas read the row at version 0; the first write wins, the second finds nothing to update.
    const first = await updatePromotion(db, "prm-1", { currentWave: 1 }, AT, undefined, row.version);
    expect(first?.version).toBe(1);
    expect(await updatePromotion(db, "prm-1", { currentWave: 5 }, AT, undefined, row.version)).toBeUndefined();
    // A write without an expected version (an API action) still counts.
    const paused = await updatePromotion(db, "prm-1", { state: PromotionState.Paused }, AT, PromotionState.Pending);
    expect(paused).toMatchObject({ version: 2, current_wave: 1, state: PromotionState.Paused });
    expect(await updatePromotion(db, "prm-1", { currentWave: 2 }, AT, undefined, first!.version)).toBeUndefined();
  });

  it("records an event once per key", async () => {
    const { db } = fleet;
    await insertPromotion(db, { id: "prm-2", app: "shop", environment: "dev", releaseId: "rel-shop-1", kind: PromotionKind.Promote, requestedBy: "erin", plan, at: AT });
    const start = (wave: number) => recordPromotionEventOnce(db, "prm-2", PromotionEventType.WaveStarted, "hub", { wave, of: 2, clusters: ["dev-1"] }, AT, { wave });
    expect(await start(1)).toBe(true);
    expect(await start(1)).toBe(false);
    expect(await start(2)).toBe(true);
    const events = await listPromotionEvents(db, { promotionId: "prm-2" });
    expect(events.map((e) => [e.type, (e.data as { wave: number }).wave, e.at])).toEqual([
      [PromotionEventType.WaveStarted, 1, AT.toISOString()],
      [PromotionEventType.WaveStarted, 2, AT.toISOString()],
    ]);
  });
});
