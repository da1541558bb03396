// Metric instruments that follow the global MeterProvider, shared by the hub's and the agent's
// telemetry. @opentelemetry/api has no proxy meter provider: instruments made before the SDK
// started would stay no-ops forever, so they are made again whenever the global provider changes.
import { metrics, type Meter, type MeterProvider } from "@opentelemetry/api";

/** Histogram buckets in seconds (the SDK default buckets are meant for milliseconds). */
export const SECONDS_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/**
 * Returns a getter of the instruments `make` creates on meter `meterName` of the current global
 * provider; they are made once per provider.
 */
export function providerInstruments<T>(meterName: string, make: (meter: Meter) => T): () => T {
  let cached: { provider: MeterProvider; instruments: T } | undefined;
  return () => {
    const provider = metrics.getMeterProvider();
    if (cached?.provider === provider) return cached.instruments;
    const made = make(provider.getMeter(meterName));
    cached = { provider, instruments: made };
    return made;
  };
}
