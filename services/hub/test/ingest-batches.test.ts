import { describe, expect, it } from "vitest";
import { batchesOf } from "../src/ingest-batches.js";

/** A source whose items arrive when the test pushes them. */
function pushSource<T>() {
  const queue: T[] = [];
  const waiting: ((r: IteratorResult<T>) => void)[] = [];
  let ended = false;
  return {
    push(...items: T[]) {
      for (const item of items) {
        const w = waiting.shift();
        if (w) w({ value: item, done: false });
        else queue.push(item);
      }
    },
    end() {
      ended = true;
      for (const w of waiting.splice(0)) w({ value: undefined, done: true });
    },
    [Symbol.asyncIterator](): AsyncIterator<T> {
      return {
        next: () =>
          queue.length > 0
            ? Promise.resolve({ value: queue.shift()!, done: false })
            : ended
              ? Promise.resolve({ value: undefined, done: true })
              : new Promise((resolve) => waiting.push(resolve)),
      };
    },
  };
}

describe("batchesOf", () => {
  it("takes what is ready up to max, never waits for more, and loses nothing", async () => {
    const source = pushSource<number>();
    source.push(1, 2, 3, 4, 5);
    const batches = batchesOf(source, 2);
    expect((await batches.next()).value).toEqual([1, 2]);
    expect((await batches.next()).value).toEqual([3, 4]);
    expect((await batches.next()).value).toEqual([5]);
    const later = batches.next();
    source.push(6);
    expect((await later).value).toEqual([6]);
    source.push(7, 8);
    source.end();
    expect((await batches.next()).value).toEqual([7, 8]);
    expect((await batches.next()).done).toBe(true);
  });
});
