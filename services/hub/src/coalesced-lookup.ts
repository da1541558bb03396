// One query for many concurrent single-key lookups. The resolver publishes up to 16 clusters at
// once and asks each one's next generation on its own; one Postgres round trip per cluster is
// 1,000 of them for a fleet-wide commit, on the path every pointer waits for. Here the first
// lookup runs at once, and lookups that arrive while a query runs wait for it to end and then go
// together in the next one, so the batches grow exactly as fast as the callers queue up.
export function coalescedLookup<V>(loadMany: (keys: string[]) => Promise<ReadonlyMap<string, V>>): (key: string) => Promise<V> {
  type Waiter = { resolve: (v: V) => void; reject: (err: unknown) => void };
  let queued = new Map<string, Waiter[]>();
  let running = false;

  const flush = (): void => {
    if (running || queued.size === 0) return;
    const batch = queued;
    queued = new Map();
    running = true;
    loadMany([...batch.keys()])
      .then(
        (values) => {
          for (const [key, waiters] of batch) {
            const value = values.get(key);
            for (const w of waiters) {
              if (value === undefined) w.reject(new Error(`lookup of "${key}" returned no value`));
              else w.resolve(value);
            }
          }
        },
        (err: unknown) => {
          for (const waiters of batch.values()) for (const w of waiters) w.reject(err);
        },
      )
      .finally(() => {
        running = false;
        flush();
      });
  };

  return (key) =>
    new Promise<V>((resolve, reject) => {
      const waiters = queued.get(key);
      if (waiters) waiters.push({ resolve, reject });
      else queued.set(key, [{ resolve, reject }]);
      flush();
    });
}
