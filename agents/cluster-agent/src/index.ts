export {};
export * from "./nats-backoff.js";
export * from "./nats-connection.js";
export * from "./nats-desired-verify.js";
export * from "./desired-cache.js";
export * from "./nats-desired-state.js";
export * from "./nats-report-spool.js";
export * from "./nats-reporter.js";
export * from "./nats-heartbeats.js";
