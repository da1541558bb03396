// Size limits hub and agent share by default: the hub publishes no bundle over the limit, and
// the agent reads none over its own (which defaults to the same), so the two agree out of the box.

/** A cluster's bundle (canonical JSON bytes), by default: far above real fleets, far below what hurts NATS or an agent's heap. */
export const DEFAULT_MAX_BUNDLE_BYTES = 32 * 1024 * 1024;
