// One trace per CLI invocation: every request the command makes carries a W3C traceparent with
// the same trace id (a fresh span id each), and every log line of the command names it. A hub
// with telemetry on joins its spans to that trace; without, its request logs use the trace id as
// the request id (services/hub/src/api/request-id.ts), so `grep <trace id>` finds both sides.
import { randomBytes } from "node:crypto";

export interface TraceContext {
  traceId: string;
  /** A traceparent header for one request: this trace, a new span id, sampled. */
  traceparent(): string;
}

export function newTraceContext(): TraceContext {
  const traceId = randomBytes(16).toString("hex");
  return { traceId, traceparent: () => `00-${traceId}-${randomBytes(8).toString("hex")}-01` };
}
