// Everything a bench starts is registered here and torn down in reverse order, also when the
// bench fails half-way or is interrupted (Ctrl-C), so no plane, database or stream is left behind.
type Step = { what: string; run: () => Promise<unknown> | unknown };

export class Cleanup {
  private readonly steps: Step[] = [];
  private done = false;

  constructor() {
    const onSignal = (sig: NodeJS.Signals) => {
      console.error(`[bench] ${sig}: cleaning up`);
      void this.run().finally(() => process.exit(130));
    };
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);
  }

  /** Registers a teardown step; the returned function runs it now (once) instead of at the end. */
  add(what: string, run: Step["run"]): () => Promise<void> {
    const step: Step = { what, run };
    this.steps.push(step);
    return async () => {
      const i = this.steps.indexOf(step);
      if (i < 0) return;
      this.steps.splice(i, 1);
      await step.run();
    };
  }

  async run(): Promise<void> {
    if (this.done) return;
    this.done = true;
    for (const step of this.steps.reverse()) {
      try {
        await step.run();
      } catch (err) {
        console.error(`[bench] cleanup: ${step.what}: ${(err as Error).message}`);
      }
    }
  }
}
