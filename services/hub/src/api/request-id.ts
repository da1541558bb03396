// The request id of the API's log lines: the trace id of the caller's W3C traceparent when it
// sent one (the CLI sends one per invocation), else fastify's counter. With telemetry on, the
// lines also carry the span's trace_id; without, the request id is what joins a caller's log
// line to the hub's.
import type { IncomingMessage } from "node:http";

const TRACEPARENT = /^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$/;
const ZERO_TRACE = "0".repeat(32);

export function requestIdGenerator(): (req: IncomingMessage) => string {
  let counter = 0;
  return (req) => {
    const header = req.headers.traceparent;
    const m = typeof header === "string" ? TRACEPARENT.exec(header.trim().toLowerCase()) : null;
    counter = (counter + 1) % Number.MAX_SAFE_INTEGER;
    // One trace spans several requests: the counter keeps each request's lines apart.
    return m && m[1] !== ZERO_TRACE ? `${m[1]}-${counter}` : `req-${counter}`;
  };
}
