// A FIFO mutex. PGlite is one connection: everything that uses it must take turns, or a query
// from one caller lands inside another caller's open transaction and is rolled back with it.

export class Mutex {
  #tail: Promise<void> = Promise.resolve();

  /** Resolves with a release function once every earlier holder has released. */
  lock(): Promise<() => void> {
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    const acquired = this.#tail.then(() => {
      let done = false;
      // Idempotent so a double release cannot let two holders in.
      return () => {
        if (!done) {
          done = true;
          release();
        }
      };
    });
    this.#tail = this.#tail.then(() => released);
    return acquired;
  }
}
