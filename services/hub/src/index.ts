export { startHub, type Hub, type HubConfig } from "./hub.js";
export { loadSigningKey, type SigningKeyOptions } from "./signing-key.js";
export { createResolver, DEFAULT_POLL_INTERVAL_MS, type Resolver, type ResolverSink, type ResolveOutcome, type ResolverOptions } from "./resolver.js";
export { BundlePublisher } from "./publish.js";
export { BreakGlassControl, HUB_ACTOR, DEFAULT_BREAK_GLASS_SWEEP_MS, type BreakGlassControlOptions } from "./break-glass.js";
export { startIngest, type IngestHandle, type IngestOptions } from "./ingest.js";
export { buildApi, type ApiOptions, type HubControl } from "./api/index.js";
export * from "./nats-auth.js";
export * from "./nats-auth-files.js";
