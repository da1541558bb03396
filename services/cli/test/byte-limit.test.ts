// Size-limit flags: plain bytes or KiB/MiB/GiB; anything else (0, negative, fractions, words,
// overflow) is not a limit.
import { describe, expect, it } from "vitest";
import { parseByteLimit } from "../src/byte-limit.js";

describe("parseByteLimit", () => {
  it("reads bytes and binary suffixes", () => {
    expect(parseByteLimit("4096")).toBe(4096);
    expect(parseByteLimit("1MiB")).toBe(1024 * 1024);
    expect(parseByteLimit(" 32 mib ")).toBe(32 * 1024 * 1024);
    expect(parseByteLimit("2GiB")).toBe(2 * 1024 ** 3);
  });
  it("refuses what is not a positive whole number of bytes", () => {
    for (const bad of ["", "0", "0MiB", "-1", "1.5", "1MB", "lots", "9".repeat(30)]) expect(parseByteLimit(bad), bad).toBeUndefined();
  });
});
