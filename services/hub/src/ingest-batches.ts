// Groups a message stream into batches of what is already there: waits for the first message,
// then takes the ones that are ready without waiting, up to `max`. A quiet stream gives batches of
// one (no added latency); a backlog gives full batches (one database commit for many reports).

const NOTHING_READY = Symbol("nothing ready");

/** Resolves after pending I/O callbacks ran, so messages already received are delivered first. */
const afterPendingIo = () => new Promise<typeof NOTHING_READY>((resolve) => setImmediate(() => resolve(NOTHING_READY)));

export async function* batchesOf<T>(source: AsyncIterable<T>, max: number): AsyncGenerator<T[]> {
  const iterator = source[Symbol.asyncIterator]();
  // The one outstanding next(): never dropped, so no message is lost between batches.
  let next = iterator.next();
  for (;;) {
    const first = await next;
    if (first.done) return;
    const batch = [first.value];
    next = iterator.next();
    let done = false;
    while (batch.length < max) {
      const ready = await Promise.race([next, afterPendingIo()]);
      if (ready === NOTHING_READY) break;
      if (ready.done) {
        done = true;
        break;
      }
      batch.push(ready.value);
      next = iterator.next();
    }
    yield batch;
    if (done) return;
  }
}
