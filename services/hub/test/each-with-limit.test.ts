import { describe, expect, it } from "vitest";
import { eachWithLimit } from "../src/each-with-limit.js";

/** A step whose completion the test controls, recording how many run at once. */
function gate() {
  let inFlight = 0;
  let peak = 0;
  const started: number[] = [];
  const release = new Map<number, () => void>();
  const step = (fail?: number) => async (i: number) => {
    started.push(i);
    inFlight++;
    peak = Math.max(peak, inFlight);
    await new Promise<void>((resolve) => release.set(i, resolve));
    inFlight--;
    if (i === fail) throw new Error(`step ${i} failed`);
  };
  const waitStarted = async (n: number) => {
    while (started.length < n) await new Promise((r) => setImmediate(r));
  };
  return { step, started, release, waitStarted, peak: () => peak, inFlight: () => inFlight };
}

describe("eachWithLimit", () => {
  it("never runs more than the limit at once and runs every item", async () => {
    const g = gate();
    const done = eachWithLimit([0, 1, 2, 3, 4, 5, 6], 3, g.step());
    for (let k = 0; k < 7; k++) {
      await g.waitStarted(Math.min(k + 3, 7));
      expect(g.inFlight()).toBeLessThanOrEqual(3);
      g.release.get(k)!();
    }
    await done;
    expect(g.peak()).toBe(3);
    expect([...g.started].sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
  });

  it("after a failure starts nothing new, waits for running steps, then throws the failure", async () => {
    const g = gate();
    let settled = false;
    const done = eachWithLimit([0, 1, 2, 3], 2, g.step(0)).finally(() => (settled = true));
    await g.waitStarted(2);
    g.release.get(0)!();
    await new Promise((r) => setImmediate(r));
    expect(settled).toBe(false); // step 1 still runs
    g.release.get(1)!();
    await expect(done).rejects.toThrow("step 0 failed");
    expect(g.started).toEqual([0, 1]);
  });
});
