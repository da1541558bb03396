// The API's request ids: a caller's W3C trace id when it sends a traceparent, so its log lines and
// the hub's share it; fastify-style counters otherwise; never a malformed or all-zero trace.
import type { IncomingMessage } from "node:http";
import { describe, expect, it } from "vitest";
import { requestIdGenerator } from "../src/api/request-id.js";

const req = (traceparent?: string) => ({ headers: traceparent === undefined ? {} : { traceparent } }) as IncomingMessage;
const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";

describe("requestIdGenerator", () => {
  it("takes the trace id of a valid traceparent, one suffix per request", () => {
    const next = requestIdGenerator();
    const a = next(req(`00-${TRACE}-00f067aa0ba902b7-01`));
    const b = next(req(`00-${TRACE.toUpperCase()}-00f067aa0ba902b8-01`));
    expect(a.startsWith(`${TRACE}-`)).toBe(true);
    expect(b.startsWith(`${TRACE}-`)).toBe(true);
    expect(a).not.toBe(b);
  });

  it("falls back to a counter without, or with a malformed or all-zero traceparent", () => {
    const next = requestIdGenerator();
    for (const h of [undefined, "garbage", `00-${TRACE}-short-01`, `00-${"0".repeat(32)}-00f067aa0ba902b7-01`]) expect(next(req(h))).toMatch(/^req-\d+$/);
  });
});
