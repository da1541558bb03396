// startTelemetry's trace export: off (no tracer provider, nothing sent) unless an OTLP endpoint is
// configured; with one, spans reach it over OTLP/HTTP when the SDK shuts down (flush).
import { createServer, type IncomingMessage, type Server } from "node:http";
import { afterEach, describe, expect, it } from "vitest";
import { hostname } from "node:os";
import { context, metrics, propagation, trace } from "@opentelemetry/api";
import { otlpTraceExportConfigured, startTelemetry } from "../src/telemetry-sdk.js";

const saved = { ...process.env };
afterEach(() => {
  process.env = { ...saved };
});

describe("startTelemetry trace export", () => {
  it("knows an endpoint only from the OTLP variables", () => {
    expect(otlpTraceExportConfigured({})).toBe(false);
    expect(otlpTraceExportConfigured({ OTEL_EXPORTER_OTLP_ENDPOINT: " " })).toBe(false);
    expect(otlpTraceExportConfigured({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://collector:4318" })).toBe(true);
    expect(otlpTraceExportConfigured({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://collector:4318/v1/traces" })).toBe(true);
  });

  it("records no spans without an endpoint", async () => {
    delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    delete process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
    const telemetry = await startTelemetry({ serviceName: "flotilla-hub" });
    try {
      expect(telemetry.tracing).toBe(false);
      expect(telemetry.metricsHandler).toBeUndefined();
      const span = trace.getTracer("t").startSpan("x");
      expect(span.isRecording()).toBe(false);
      span.end();
    } finally {
      await telemetry.shutdown();
    }
  });

  it("without an endpoint still serves metrics with the full resource and forwards a received trace context", async () => {
    delete process.env.OTEL_EXPORTER_OTLP_ENDPOINT;
    delete process.env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT;
    process.env.OTEL_RESOURCE_ATTRIBUTES = "deployment.environment=bench";
    const telemetry = await startTelemetry({ serviceName: "flotilla-hub", prometheus: true });
    const server: Server = createServer(telemetry.metricsHandler!);
    try {
      expect(telemetry.tracing).toBe(false);
      metrics.getMeter("probe").createCounter("probe.light").add(2);
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      const text = await (await fetch(`http://127.0.0.1:${(server.address() as { port: number }).port}/metrics`)).text();
      expect(text).toMatch(/^probe_light_total(\{[^}]*\})? 2$/m);
      const info = /^target_info\{(.*)\} 1$/m.exec(text)?.[1] ?? "";
      expect(info).toContain('service_name="flotilla-hub"');
      expect(info).toContain(`host_name="${hostname()}"`);
      expect(info).toContain('deployment_environment="bench"');
      expect(info).toContain('telemetry_sdk_language="nodejs"');
      expect(info).not.toContain("process_command"); // no process detector: no command line in target_info

      // A trace context received (the refresh's traceparent) survives awaits and is injected again.
      const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
      const received = propagation.extract(context.active(), { traceparent });
      const forwarded = await context.with(received, async () => {
        await new Promise((r) => setImmediate(r));
        const carrier: Record<string, string> = {};
        propagation.inject(context.active(), carrier);
        return carrier;
      });
      expect(forwarded.traceparent).toBe(traceparent);
    } finally {
      await new Promise((r) => server.close(r));
      await telemetry.shutdown();
    }
  });

  it("exports spans over OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT", async () => {
    const received: { url: string | undefined; type: string | undefined; bytes: number }[] = [];
    const collector: Server = createServer((req: IncomingMessage, res) => {
      let bytes = 0;
      req.on("data", (c: Buffer) => (bytes += c.length));
      req.on("end", () => {
        received.push({ url: req.url, type: req.headers["content-type"], bytes });
        res.writeHead(200, { "content-type": "application/x-protobuf" }).end();
      });
    });
    await new Promise<void>((r) => collector.listen(0, "127.0.0.1", r));
    try {
      process.env.OTEL_EXPORTER_OTLP_ENDPOINT = `http://127.0.0.1:${(collector.address() as { port: number }).port}`;
      const telemetry = await startTelemetry({ serviceName: "flotilla-hub" });
      expect(telemetry.tracing).toBe(true);
      const span = trace.getTracer("t").startSpan("exported");
      expect(span.isRecording()).toBe(true);
      span.end();
      await telemetry.shutdown(); // flushes the batch processor
      expect(received.length).toBeGreaterThanOrEqual(1);
      expect(received[0]).toMatchObject({ url: "/v1/traces" });
      expect(received[0]!.bytes).toBeGreaterThan(0);
    } finally {
      await new Promise((r) => collector.close(r));
    }
  });
});
