// The span discipline the hub and the agent share: the work runs in an active span (so reports
// and child spans made inside carry its trace), an exception marks the span failed and is
// rethrown, and the span always ends.
import { context, SpanStatusCode, type Context, type Span, type SpanOptions, type Tracer } from "@opentelemetry/api";

/** `parent`: the context to start the span in (default: the active one), e.g. a remote parent. */
export function inActiveSpan<T>(tracer: Tracer, name: string, options: SpanOptions, work: (span: Span) => Promise<T>, parent: Context = context.active()): Promise<T> {
  return tracer.startActiveSpan(name, options, parent, async (span) => {
    try {
      return await work(span);
    } catch (err) {
      throw failed(span, err);
    } finally {
      span.end();
    }
  });
}

/** The same discipline for synchronous work (a pure computation such as a render). */
export function inActiveSpanSync<T>(tracer: Tracer, name: string, options: SpanOptions, work: (span: Span) => T, parent: Context = context.active()): T {
  return tracer.startActiveSpan(name, options, parent, (span) => {
    try {
      return work(span);
    } catch (err) {
      throw failed(span, err);
    } finally {
      span.end();
    }
  });
}

/** Marks the span failed with the exception; returns the exception for the caller to rethrow. */
function failed(span: Span, err: unknown): unknown {
  span.recordException(err as Error);
  span.setStatus({ code: SpanStatusCode.ERROR });
  return err;
}
