import { describe, expect, it } from "vitest";
import { WaitTimeoutError, waitFor } from "../src/wait-for.js";

describe("waitFor", () => {
  it("returns the first value the probe yields, retrying through false, undefined and errors", async () => {
    let calls = 0;
    const value = await waitFor(
      () => {
        calls++;
        if (calls === 1) return false;
        if (calls === 2) throw new Error("not yet");
        return calls === 3 ? undefined : { calls };
      },
      { what: "the fourth call", intervalMs: 1 },
    );
    expect(value).toEqual({ calls: 4 });
  });

  it("names what it waited for and the probe's last error when the deadline passes", async () => {
    const err = await waitFor(
      () => {
        throw new Error("connection refused");
      },
      { what: "the apiserver", timeoutMs: 50, intervalMs: 5 },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WaitTimeoutError);
    expect((err as Error).message).toMatch(/waiting for the apiserver; last error: connection refused/);
  });
});
