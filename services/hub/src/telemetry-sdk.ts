// Starts OpenTelemetry for a Flotilla process (the hub, or an agent run by the CLI): W3C trace
// context propagation, metrics for Prometheus, and trace export only when an OTLP endpoint is
// configured. Libraries (agents/cluster-agent, libs/wire, the hub's loops) use only
// @opentelemetry/api; this is the one place that owns the SDK.
//
// No network unless asked: without OTEL_EXPORTER_OTLP_ENDPOINT (or ..._TRACES_ENDPOINT) no span
// is exported, no log exporter is created, and metrics are only read when Prometheus scrapes.
import type { IncomingMessage, ServerResponse } from "node:http";
import { context, metrics, propagation, trace } from "@opentelemetry/api";
import { AsyncLocalStorageContextManager } from "@opentelemetry/context-async-hooks";
import { PrometheusExporter } from "@opentelemetry/exporter-prometheus";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { defaultResource, detectResources, envDetector, hostDetector, resourceFromAttributes, type Resource } from "@opentelemetry/resources";
import { MeterProvider } from "@opentelemetry/sdk-metrics";
import type { SpanProcessor } from "@opentelemetry/sdk-trace-base";

export interface TelemetryOptions {
  /** `service.name` of every span and metric, e.g. "flotilla-hub". */
  serviceName: string;
  /**
   * Metrics for Prometheus. `true`: the caller serves `metricsHandler` (the hub on GET /metrics);
   * `{ host, port }`: the exporter's own HTTP server serves GET /metrics there (the agent's
   * `--metrics-listen`). Absent: no metrics are collected at all.
   */
  prometheus?: boolean | { host?: string; port: number };
  /** Span processors to use instead of the OTLP export (tests: an in-memory exporter). */
  spanProcessors?: SpanProcessor[];
}

export interface Telemetry {
  /** Whether spans are recorded and exported (an OTLP endpoint or span processors were given). */
  readonly tracing: boolean;
  /** Answers a Prometheus scrape with the text format (with `prometheus: true`). */
  readonly metricsHandler?: (request: IncomingMessage, response: ServerResponse) => void;
  /** Flushes pending spans, stops the Prometheus server, and unregisters the global providers. */
  shutdown(): Promise<void>;
}

/** True when the standard OTLP environment variables name an endpoint for traces. */
export function otlpTraceExportConfigured(env: NodeJS.ProcessEnv = process.env): boolean {
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim());
}

/**
 * Registers the global tracer and meter providers and the W3C propagator. One per process: a
 * second start before shutdown() finds the globals taken and its providers stay unused.
 */
export async function startTelemetry(options: TelemetryOptions): Promise<Telemetry> {
  const prometheus = await prometheusExporter(options.prometheus);
  const exportTraces = options.spanProcessors === undefined && otlpTraceExportConfigured();
  const tracing = exportTraces || (options.spanProcessors?.length ?? 0) > 0;
  const stop = tracing ? await startFullSdk(options, prometheus, exportTraces) : startWithoutTracing(options, prometheus);
  const handler = prometheus && options.prometheus === true ? prometheus.getMetricsRequestHandler.bind(prometheus) : undefined;
  return {
    tracing,
    ...(handler ? { metricsHandler: handler } : {}),
    async shutdown() {
      await stop().catch(() => undefined);
      // The API keeps the first registration forever otherwise: a later start (tests, a restarted
      // hub in the same process) could not register its providers.
      metrics.disable();
      trace.disable();
      propagation.disable();
      context.disable();
    },
  };
}

/**
 * Spans are recorded: the whole NodeSDK, loaded only now. It builds the OTLP exporter from
 * OTEL_TRACES_EXPORTER / OTEL_EXPORTER_OTLP_* and pulls in every exporter it could build (gRPC,
 * protobuf, Zipkin, logs): ~9 MiB of RSS a process without an endpoint does not carry.
 */
async function startFullSdk(options: TelemetryOptions, prometheus: PrometheusExporter | undefined, exportTraces: boolean): Promise<() => Promise<void>> {
  const { NodeSDK } = await import("@opentelemetry/sdk-node");
  const sdk = new NodeSDK({
    serviceName: options.serviceName,
    resourceDetectors: RESOURCE_DETECTORS,
    textMapPropagator: new W3CTraceContextPropagator(),
    metricReaders: prometheus ? [prometheus] : [],
    // undefined → the SDK builds the exporter from the environment.
    ...(exportTraces ? {} : { spanProcessors: options.spanProcessors ?? [] }),
    // Logs go to the process's own logger, never to an OTLP default.
    logRecordProcessors: [],
    instrumentations: [],
  });
  sdk.start();
  return () => sdk.shutdown();
}

/**
 * No spans (no endpoint): what NodeSDK would register without a tracer provider, from the
 * light packages — the async context manager and W3C propagator (a received trace context is
 * still forwarded, e.g. from the commit's refresh into each pointer) and, if asked, the meter
 * provider for Prometheus.
 */
function startWithoutTracing(options: TelemetryOptions, prometheus: PrometheusExporter | undefined): () => Promise<void> {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  if (!prometheus) return async () => undefined;
  const meterProvider = new MeterProvider({ resource: serviceResource(options.serviceName), readers: [prometheus] });
  metrics.setGlobalMeterProvider(meterProvider);
  return () => meterProvider.shutdown();
}

// env (OTEL_RESOURCE_ATTRIBUTES) and host name; not the process detector, whose command-line
// attribute would publish --nats-password and the like in target_info.
const RESOURCE_DETECTORS = [envDetector, hostDetector];

/** The resource NodeSDK builds for these detectors: SDK defaults, detected attributes, service.name. */
function serviceResource(serviceName: string): Resource {
  return defaultResource()
    .merge(detectResources({ detectors: RESOURCE_DETECTORS }))
    .merge(resourceFromAttributes({ "service.name": serviceName }));
}

async function prometheusExporter(option: TelemetryOptions["prometheus"]): Promise<PrometheusExporter | undefined> {
  if (!option) return undefined;
  if (option === true) return new PrometheusExporter({ preventServerStart: true });
  // Its own server: wait until it listens so a bad address fails the start, not a later scrape.
  let exporter: PrometheusExporter | undefined;
  await new Promise<void>((resolve, reject) => {
    exporter = new PrometheusExporter({ ...(option.host ? { host: option.host } : {}), port: option.port }, (err) => (err ? reject(err) : resolve()));
  });
  return exporter;
}
