// The agent and the hub keep V8's young generation at its initial size: a burst of short-lived allocations
// (like the first sync) must not leave the heap grown, unless the operator sized it themselves.
// Each case runs in its own node process: the flag is process-wide and cannot be undone.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { keepYoungGenerationSmall } from "../src/young-generation.js";

const module = join(import.meta.dirname, "../src/young-generation.ts");

/** heapTotal (MB) after a burst of garbage, in a fresh process that applies the setting or not. */
function heapAfterBurst(apply: boolean, nodeFlags: string[] = []): number {
  const code = `
    ${apply ? `const { keepYoungGenerationSmall } = await import(${JSON.stringify(module)}); keepYoungGenerationSmall();` : ""}
    let keep = [];
    for (let i = 0; i < 2e6; i++) { keep.push({ i, s: "x" + i }); if (keep.length > 1000) keep = []; }
    console.log(process.memoryUsage().heapTotal / 1048576);`;
  const r = spawnSync(process.execPath, [...nodeFlags, "--import", "tsx", "--input-type=module", "-e", code], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(r.stderr);
  return Number(r.stdout.trim());
}

describe("keepYoungGenerationSmall", () => {
  it("keeps the heap from growing through a burst of short-lived objects", () => {
    const grown = heapAfterBurst(false);
    const kept = heapAfterBurst(true);
    // Default V8 grows each semi-space to 16 MB under this burst; kept, they stay at 1 MB or so.
    expect(grown - kept).toBeGreaterThan(15);
  });

  it("leaves the young generation to the operator's flags", () => {
    expect(keepYoungGenerationSmall(["--max-semi-space-size=8"], {})).toBe(false);
    expect(keepYoungGenerationSmall([], { NODE_OPTIONS: "--max-old-space-size=200 --semi-space-growth-factor=2" })).toBe(false);
  });
});
