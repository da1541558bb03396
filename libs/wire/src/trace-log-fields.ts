// The trace of the active span as log fields, so a log line can be joined to its trace. Loggers
// (pino's `mixin` in the processes) call this per line; it reads only @opentelemetry/api, so
// without a started SDK there is no active span and the line simply carries no trace fields.
import { context, isSpanContextValid, trace } from "@opentelemetry/api";

export interface TraceLogFields {
  trace_id?: string;
  span_id?: string;
}

/** `{ trace_id, span_id }` of the span active in the current context; `{}` outside any span. */
export function activeTraceLogFields(): TraceLogFields {
  const span = trace.getSpan(context.active());
  if (!span) return {};
  const sc = span.spanContext();
  // A non-recording or invalid span (no SDK, a no-op tracer) has the all-zero ids: not a trace.
  if (!isSpanContextValid(sc)) return {};
  return { trace_id: sc.traceId, span_id: sc.spanId };
}
