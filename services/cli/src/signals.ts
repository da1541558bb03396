// Waiting for the process to be asked to stop. Its own module so that `flotilla agent` does not
// import the hub command (and with it fastify, pg, PGlite and the OpenTelemetry SDK).

/** Resolves on the first SIGINT or SIGTERM. */
export function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
}
