// W3C trace context (traceparent, tracestate) carried in NATS message headers, so a report's
// trace continues from the agent that published it to the hub that ingests it. NATS has no
// OpenTelemetry instrumentation in JS: these are the getter and setter the propagation API needs.
//
// Which propagator runs is decided by whoever starts the OpenTelemetry SDK (the hub and the CLI
// register W3C tracecontext). Without an SDK, inject writes nothing and extract returns the
// context it was given.
import { context, propagation, type Context, type TextMapGetter, type TextMapSetter } from "@opentelemetry/api";
import type { PointerTrace } from "@flotilla/model";

/** What the propagation needs of a header map; `MsgHdrs` from `headers()` of @nats-io/transport-node fits. */
export interface TraceHeaders {
  /** The value, or "" when the header is absent (as `MsgHdrs.get` does). */
  get(key: string): string;
  set(key: string, value: string): void;
  has?(key: string): boolean;
  keys?(): string[];
}

export const traceHeadersGetter: TextMapGetter<TraceHeaders> = {
  keys: (carrier) => carrier.keys?.() ?? [],
  // "" means absent: the propagator must see undefined, not an empty traceparent.
  get: (carrier, key) => {
    if (carrier.has && !carrier.has(key)) return undefined;
    return carrier.get(key) || undefined;
  },
};

export const traceHeadersSetter: TextMapSetter<TraceHeaders> = {
  set: (carrier, key, value) => carrier.set(key, value),
};

/** The trace context of `ctx` (default: the active one) as pointer fields; undefined without a trace. */
export function currentTraceContext(ctx: Context = context.active()): PointerTrace | undefined {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  if (!carrier.traceparent) return undefined;
  return { traceparent: carrier.traceparent, ...(carrier.tracestate ? { tracestate: carrier.tracestate } : {}) };
}

/** The context `base` (default: the active one) with the pointer's trace as remote parent. */
export function contextFromTrace(t: PointerTrace | undefined, base: Context = context.active()): Context {
  return t ? propagation.extract(base, { ...t }) : base;
}

/** Writes the trace context of `ctx` (default: the active one) into `headers`; returns them. */
export function injectTraceContext<H extends TraceHeaders>(headers: H, ctx: Context = context.active()): H {
  propagation.inject(ctx, headers, traceHeadersSetter);
  return headers;
}

/** The context `base` (default: the active one) with the remote parent found in `headers`, if any. */
export function extractTraceContext(headers: TraceHeaders | undefined, base: Context = context.active()): Context {
  return headers ? propagation.extract(base, headers, traceHeadersGetter) : base;
}
