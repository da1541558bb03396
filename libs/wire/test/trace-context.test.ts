// W3C trace context over real NATS header objects (headers() of @nats-io/transport-node).
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ROOT_CONTEXT, TraceFlags, propagation, trace, type SpanContext } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { headers } from "@nats-io/transport-node";
import { extractTraceContext, injectTraceContext, traceHeadersGetter } from "../src/index.js";

const parent: SpanContext = {
  traceId: "4bf92f3577b34da6a3ce929d0e0e4736",
  spanId: "00f067aa0ba902b7",
  traceFlags: TraceFlags.SAMPLED,
  traceState: undefined,
};

describe("trace context in NATS headers", () => {
  beforeEach(() => {
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  });
  afterEach(() => {
    propagation.disable();
  });

  it("injects traceparent into headers() and extracts the same span context", () => {
    const h = injectTraceContext(headers(), trace.setSpanContext(ROOT_CONTEXT, parent));
    expect(h.get("traceparent")).toBe(`00-${parent.traceId}-${parent.spanId}-01`);
    const got = trace.getSpanContext(extractTraceContext(h, ROOT_CONTEXT));
    expect(got).toMatchObject({ traceId: parent.traceId, spanId: parent.spanId, traceFlags: TraceFlags.SAMPLED, isRemote: true });
  });

  it("extracts tracestate too", () => {
    const h = headers();
    h.set("traceparent", `00-${parent.traceId}-${parent.spanId}-01`);
    h.set("tracestate", "vendor=abc");
    const got = trace.getSpanContext(extractTraceContext(h, ROOT_CONTEXT));
    expect(got?.traceState?.get("vendor")).toBe("abc");
  });

  it("finds no parent in headers without traceparent (MsgHdrs.get returns \"\")", () => {
    const h = headers();
    h.set("Nats-Msg-Id", "x");
    expect(h.get("traceparent")).toBe("");
    expect(traceHeadersGetter.get(h, "traceparent")).toBeUndefined();
    expect(traceHeadersGetter.keys(h)).toEqual(["Nats-Msg-Id"]);
    expect(trace.getSpanContext(extractTraceContext(h, ROOT_CONTEXT))).toBeUndefined();
    expect(extractTraceContext(undefined, ROOT_CONTEXT)).toBe(ROOT_CONTEXT);
  });

  it("ignores a malformed traceparent", () => {
    const h = headers();
    h.set("traceparent", "00-not-a-trace-01");
    expect(trace.getSpanContext(extractTraceContext(h, ROOT_CONTEXT))).toBeUndefined();
  });

  it("writes nothing when no propagator is registered (no SDK started)", () => {
    propagation.disable();
    const h = injectTraceContext(headers(), trace.setSpanContext(ROOT_CONTEXT, parent));
    expect(h.has("traceparent")).toBe(false);
  });
});
