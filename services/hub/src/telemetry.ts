// The hub's metrics and spans (meter and tracer "flotilla-hub"), through @opentelemetry/api only:
// without a started SDK (telemetry-sdk.ts) every call here is a no-op.
//
// Metrics (Prometheus names in parentheses; promotion progress is in promotion-telemetry.ts):
//   flotilla.hub.reports.ingested        counter   kind, outcome   (flotilla_hub_reports_ingested_total)
//   flotilla.hub.reports.rejected        counter   code            (flotilla_hub_reports_rejected_total)
//   flotilla.hub.render.duration         histogram s, outcome      (flotilla_hub_render_duration)
//   flotilla.hub.render.failures         counter                   (flotilla_hub_render_failures_total)
//   flotilla.hub.pointers.published      counter                   (flotilla_hub_pointers_published_total)
//   flotilla.hub.promotion.events        counter   type, environment (flotilla_hub_promotion_events_total)
//   flotilla.hub.leader                  gauge     identity        (flotilla_hub_leader): 1 on the replica that leads, 0 on followers
// Spans: "ingest report" (child of the agent's span whose context came in the message headers),
// "resolve" (one env repo resolve) with its steps "fetch", "render" and "publish" as children (the
// pointers carry the publish span's context, so each agent's "reconcile" is a child of it),
// "promotion step" (one controller step of one promotion: a wave
// commit's resolve is its child, so commit → wave → pointers → each agent's apply is one trace).
import { SpanKind, SpanStatusCode, context, trace, type Counter, type Histogram, type Span } from "@opentelemetry/api";
import { ReportKind } from "@flotilla/model";
import { SECONDS_BUCKETS, extractTraceContext, inActiveSpan, inActiveSpanSync, providerInstruments, type TraceHeaders } from "@flotilla/wire";

export const HUB_METER = "flotilla-hub";

/** What an ingested message ended as: the store's outcomes, or the ingest loop's own. */
export type IngestMetricOutcome = "ingested" | "duplicate" | "stale" | "rejected" | "retried";

interface HubInstruments {
  reportsIngested: Counter;
  reportsRejected: Counter;
  renderDuration: Histogram;
  renderFailures: Counter;
  pointersPublished: Counter;
  promotionEvents: Counter;
}

// Made again whenever the global meter provider changes (see providerInstruments).
// This process's replicas (one, except in tests) and whether each leads: read by the gauge's callback.
const leaderRoles = new Map<string, boolean>();

const instruments = providerInstruments<HubInstruments>(HUB_METER, (meter) => {
  meter.createObservableGauge("flotilla.hub.leader", { description: "1 while this hub replica holds the leader lease (runs the resolver and the promotion controller), else 0" }).addCallback((result) => {
    for (const [identity, leads] of leaderRoles) result.observe(leads ? 1 : 0, { identity });
  });
  return {
  reportsIngested: meter.createCounter("flotilla.hub.reports.ingested", { description: "Agent reports taken off the report stream, by kind and outcome (ingested, duplicate, stale, rejected, retried)" }),
  reportsRejected: meter.createCounter("flotilla.hub.reports.rejected", { description: "Reports recorded in rejected_reports, by error code" }),
  renderDuration: meter.createHistogram("flotilla.hub.render.duration", { unit: "s", description: "Time to render every cluster's bundle at one revision", advice: { explicitBucketBoundaries: SECONDS_BUCKETS } }),
  renderFailures: meter.createCounter("flotilla.hub.render.failures", { description: "Revisions that failed to render (the last good pointers were kept)" }),
  pointersPublished: meter.createCounter("flotilla.hub.pointers.published", { description: "Signed desired pointers published" }),
  promotionEvents: meter.createCounter("flotilla.hub.promotion.events", { description: "Promotion events (wave started, committed, cluster changed, state changed…), by type and environment" }),
  };
});

/** The replica's role changed (or it started): the flotilla.hub.leader gauge reports it. */
export function setLeaderGauge(identity: string, leads: boolean): void {
  leaderRoles.set(identity, leads);
  instruments(); // the gauge exists once a provider is registered
}

const tracer = () => trace.getTracer(HUB_METER);

/** Report kinds as metric labels; a subject with anything else counts as "other". */
const kinds = new Set<string>(Object.values(ReportKind));

/** `<prefix>.report.<cluster>.<kind>` → the kind label. */
function kindOf(subject: string): string {
  const kind = subject.slice(subject.lastIndexOf(".") + 1);
  return kinds.has(kind) ? kind : "other";
}

interface IngestMessage {
  subject: string;
  seq: number;
  headers?: TraceHeaders | undefined;
}

const ingestSpans = new WeakMap<object, Span>();

/** A report message arrived: starts its "ingest report" span under the publisher's trace context. */
export function ingestReceived(m: IngestMessage): void {
  const parent = extractTraceContext(m.headers, context.active());
  const span = tracer().startSpan(
    "ingest report",
    { kind: SpanKind.CONSUMER, attributes: { "messaging.system": "nats", "messaging.destination.name": m.subject, "flotilla.stream_seq": m.seq } },
    parent,
  );
  ingestSpans.set(m, span);
}

/** The message was acked (or handed back for redelivery): ends its span and counts the outcome. */
export function ingestDone(m: IngestMessage, outcome: IngestMetricOutcome, rejectedCode?: string): void {
  const kind = kindOf(m.subject);
  const i = instruments();
  i.reportsIngested.add(1, { kind, outcome });
  if (outcome === "rejected") i.reportsRejected.add(1, { code: rejectedCode ?? "unknown" });
  const span = ingestSpans.get(m);
  if (!span) return;
  ingestSpans.delete(m);
  span.setAttributes({ "flotilla.report.kind": kind, "flotilla.ingest.outcome": outcome });
  if (outcome === "rejected" || outcome === "retried") span.setStatus({ code: SpanStatusCode.ERROR, ...(rejectedCode ? { message: rejectedCode } : {}) });
  span.end();
}

/** Runs one resolve in a "resolve" span; counts the pointers it published. */
export function tracedResolve<T extends { revision: string; published: number; failed: boolean }>(resolve: () => Promise<T>): Promise<T> {
  return inActiveSpan(tracer(), "resolve", {}, async (span) => {
    const outcome = await resolve();
    span.setAttributes({ "flotilla.revision": outcome.revision, "flotilla.pointers_published": outcome.published, "flotilla.failed": outcome.failed });
    if (outcome.failed) span.setStatus({ code: SpanStatusCode.ERROR });
    if (outcome.published > 0) instruments().pointersPublished.add(outcome.published);
    return outcome;
  });
}

/** Runs one step of a resolve ("fetch", "publish") in a child span of the resolve. */
export function tracedResolveStep<T>(name: "fetch" | "publish", attributes: Record<string, string | number>, step: () => Promise<T>): Promise<T> {
  return inActiveSpan(tracer(), name, { attributes }, () => step());
}

/** Times one render of a revision in a "render" span (synchronous: the renderer is pure computation). */
export function timedRender<T extends { ok: boolean }>(revision: string, render: () => T): T {
  const started = performance.now();
  let outcome = "error";
  try {
    return inActiveSpanSync(tracer(), "render", { attributes: { "flotilla.revision": revision } }, (span) => {
      const result = render();
      outcome = result.ok ? "ok" : "failed";
      if (!result.ok) span.setStatus({ code: SpanStatusCode.ERROR });
      return result;
    });
  } finally {
    instruments().renderDuration.record((performance.now() - started) / 1000, { outcome });
  }
}

/** A revision failed to render (counted once per revision, not per poll). */
export function countRenderFailure(): void {
  instruments().renderFailures.add(1);
}

/** One promotion event happened. */
export function countPromotionEvent(type: string, environment: string): void {
  instruments().promotionEvents.add(1, { type, environment });
}

/** Runs one controller step of a promotion in a "promotion step" span. */
export function tracedPromotionStep<T>(p: { id: string; app: string; environment: string; state: string; current_wave: number }, step: () => Promise<T>): Promise<T> {
  return inActiveSpan(
    tracer(),
    "promotion step",
    { attributes: { "flotilla.promotion": p.id, "flotilla.app": p.app, "flotilla.environment": p.environment, "flotilla.promotion.state": p.state, "flotilla.promotion.wave": p.current_wave + 1 } },
    () => step(),
  );
}
