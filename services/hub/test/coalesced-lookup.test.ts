import { describe, expect, it } from "vitest";
import { coalescedLookup } from "../src/coalesced-lookup.js";

/** A loadMany whose queries the test answers, recording the keys of each. */
function controlledLoad() {
  const queries: string[][] = [];
  const answers: Array<(fail?: Error) => void> = [];
  const loadMany = (keys: string[]) =>
    new Promise<Map<string, number>>((resolve, reject) => {
      queries.push(keys);
      answers.push((fail) => (fail ? reject(fail) : resolve(new Map(keys.filter((k) => k !== "missing").map((k) => [k, k.length])))));
    });
  const answer = async (i: number, fail?: Error) => {
    while (answers.length <= i) await new Promise((r) => setImmediate(r));
    answers[i]!(fail);
  };
  return { loadMany, queries, answer };
}

describe("coalescedLookup", () => {
  it("runs the first lookup at once and the ones that arrive meanwhile together in the next query", async () => {
    const { loadMany, queries, answer } = controlledLoad();
    const lookup = coalescedLookup(loadMany);
    const first = lookup("a");
    expect(queries).toEqual([["a"]]);
    const later = [lookup("bb"), lookup("ccc"), lookup("bb")];
    expect(queries).toHaveLength(1);
    await answer(0);
    expect(await first).toBe(1);
    await answer(1);
    expect(await Promise.all(later)).toEqual([2, 3, 2]);
    expect(queries).toEqual([["a"], ["bb", "ccc"]]);
  });

  it("fails the lookups of a failed query, and the next lookups query again", async () => {
    const { loadMany, queries, answer } = controlledLoad();
    const lookup = coalescedLookup(loadMany);
    const failed = lookup("a").catch((e: unknown) => e);
    await answer(0, new Error("connection reset"));
    expect(await failed).toMatchObject({ message: "connection reset" });
    const missing = lookup("missing").catch((e: unknown) => e);
    await answer(1);
    expect(await missing).toMatchObject({ message: 'lookup of "missing" returned no value' });
    expect(queries).toEqual([["a"], ["missing"]]);
  });
});
