// The processes' pino logger joins its lines to traces: a line written inside a traced operation
// carries that span's trace and span ids (real pino writing into a captured stream, a real
// OpenTelemetry SDK with an in-memory exporter), a line outside any span carries none.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { trace } from "@opentelemetry/api";
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import type { AgentLogger } from "@flotilla/cluster-agent";
import { startTelemetry, type ResolverLogger, type Telemetry } from "@flotilla/hub";
import { inActiveSpan } from "@flotilla/wire";
import { createProcessLogger } from "flotilla/process-logger";

function capture() {
  const lines: string[] = [];
  return { lines, destination: { write: (s: string) => void lines.push(s) }, records: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe("process logger", () => {
  const spans = new InMemorySpanExporter();
  const processor = new SimpleSpanProcessor(spans);
  let telemetry: Telemetry;
  beforeAll(async () => {
    telemetry = await startTelemetry({ serviceName: "flotilla-test", spanProcessors: [processor] });
  });
  afterAll(async () => {
    await telemetry.shutdown();
  });

  it("a line written inside a span carries that span's trace_id and span_id, also after an await", async () => {
    const out = capture();
    const log = createProcessLogger({ component: "agent", cluster: "edge-1", destination: out.destination });
    // The agent's and the hub's ports take the pino logger as it is.
    const port: AgentLogger & ResolverLogger = log;
    port.info({ phase: "before" }, "outside");
    const tracer = trace.getTracer("flotilla-test");
    const ids = await inActiveSpan(tracer, "reconcile", {}, async (span) => {
      port.info({ phase: "start" }, "inside");
      await new Promise((r) => setImmediate(r));
      await inActiveSpan(tracer, "apply", {}, async () => port.warn({ phase: "child" }, "in a child span"));
      port.error({ phase: "end" }, "inside, after awaits");
      return span.spanContext();
    });
    // The processor exports once the resource's attributes are resolved: flush before reading.
    await processor.forceFlush();
    const [outside, inside, child, after] = out.records();
    expect(outside).not.toHaveProperty("trace_id");
    expect(outside).not.toHaveProperty("span_id");
    expect(inside).toMatchObject({ level: "info", msg: "inside", component: "agent", cluster: "edge-1", phase: "start", trace_id: ids.traceId, span_id: ids.spanId });
    expect(after).toMatchObject({ level: "error", trace_id: ids.traceId, span_id: ids.spanId });
    const applySpan = spans.getFinishedSpans().find((s) => s.name === "apply")!;
    expect(child).toMatchObject({ level: "warn", trace_id: ids.traceId, span_id: applySpan.spanContext().spanId });
    // The exported span is the one the line names.
    expect(spans.getFinishedSpans().find((s) => s.name === "reconcile")?.spanContext().traceId).toBe(ids.traceId);
    expect(new Date(String(inside!.time)).toISOString()).toBe(inside!.time);
  });

  it("honours the level: below it nothing is written, silent writes nothing", () => {
    const warn = capture();
    const log = createProcessLogger({ component: "hub", level: "warn", destination: warn.destination });
    log.info("dropped");
    log.warn("kept");
    expect(warn.records().map((r) => r.msg)).toEqual(["kept"]);
    const silent = capture();
    createProcessLogger({ component: "hub", level: "silent", destination: silent.destination }).error("nothing");
    expect(silent.lines).toEqual([]);
  });
});
