// Promotion progress as metrics and spans (meter and tracer "flotilla-hub", like telemetry.ts;
// no-ops without a started SDK). Kept apart from telemetry.ts so the promotion loop's
// instruments are read in one place (docs/observability.md).
//
//   flotilla.hub.promotion.transitions  counter    from, to, environment   (…_transitions_total)
//   flotilla.hub.promotion.gate_wait    histogram  s, environment          created → Running (gates, queue, approvals)
//   flotilla.hub.promotion.wave.duration histogram s, environment, outcome  wave commit → settled | halted
//   flotilla.hub.promotion.clusters     gauge      environment, outcome    clusters of open promotions by outcome
// Spans: "promotion wave" (a tick that starts a wave) with children "promotion commit" (find or
// make and push the wave commit) and "promotion pointers" (the resolve that publishes the wave's
// pointers — its "resolve" span is a child — and noting them), attributes promotion id, release,
// environment, wave k of n.
import { trace, type Counter, type Histogram, type Span } from "@opentelemetry/api";
import { SECONDS_BUCKETS, inActiveSpan, providerInstruments } from "@flotilla/wire";
import { HUB_METER } from "./telemetry.js";

/** Per open promotion: its environment and how many clusters have each outcome (read by the gauge). */
const outcomes = new Map<string, { environment: string; counts: Map<string, number> }>();
const seen = new Map<string, { environment: string; outcome: string }>();

interface PromotionInstruments {
  transitions: Counter;
  gateWait: Histogram;
  waveDuration: Histogram;
}

const instruments = providerInstruments<PromotionInstruments>(HUB_METER, (meter) => {
  meter.createObservableGauge("flotilla.hub.promotion.clusters", { description: "Clusters of open promotions, by environment and outcome in their promotion" }).addCallback((result) => {
    // Series seen before report 0 once their promotions ended: the SDK would repeat their last value.
    const sums = new Map<string, { environment: string; outcome: string; n: number }>([...seen].map(([k, v]) => [k, { ...v, n: 0 }]));
    for (const { environment, counts } of outcomes.values()) {
      for (const [outcome, n] of counts) {
        const key = `${environment}\u0000${outcome}`;
        const s = sums.get(key) ?? { environment, outcome, n: 0 };
        s.n += n;
        sums.set(key, s);
        seen.set(key, { environment, outcome });
      }
    }
    for (const s of sums.values()) result.observe(s.n, { environment: s.environment, outcome: s.outcome });
  });
  return {
    transitions: meter.createCounter("flotilla.hub.promotion.transitions", { description: "Promotion state changes, by from, to and environment" }),
    gateWait: meter.createHistogram("flotilla.hub.promotion.gate_wait", { unit: "s", description: "From a promotion's creation to its first wave being planned (gates, queue, approvals)", advice: { explicitBucketBoundaries: [...SECONDS_BUCKETS, 900, 3600, 14_400, 86_400] } }),
    waveDuration: meter.createHistogram("flotilla.hub.promotion.wave.duration", { unit: "s", description: "From a wave's commit until its clusters settled (or the promotion halted)", advice: { explicitBucketBoundaries: [...SECONDS_BUCKETS, 900, 3600] } }),
  };
});

const tracer = () => trace.getTracer(HUB_METER);

export function countTransition(environment: string, from: string, to: string): void {
  instruments().transitions.add(1, { from, to, environment });
}

export function recordGateWait(environment: string, createdAt: Date, now: Date): void {
  instruments().gateWait.record(Math.max(0, now.getTime() - createdAt.getTime()) / 1000, { environment });
}

export function recordWaveDuration(environment: string, outcome: "settled" | "halted", committedAt: string | undefined, now: Date): void {
  if (!committedAt) return;
  instruments().waveDuration.record(Math.max(0, now.getTime() - new Date(committedAt).getTime()) / 1000, { environment, outcome });
}

/** The outcomes of an open promotion's clusters now (the gauge reports the latest of each promotion). */
export function noteClusterOutcomes(promotion: string, environment: string, list: readonly string[]): void {
  instruments(); // the gauge exists once the SDK's provider is there
  const counts = new Map<string, number>();
  for (const o of list) counts.set(o, (counts.get(o) ?? 0) + 1);
  outcomes.set(promotion, { environment, counts });
}

/** A promotion ended: its clusters leave the gauge. */
export function forgetPromotion(promotion: string): void {
  outcomes.delete(promotion);
}

export interface WaveSpanInput {
  id: string;
  release_id: string;
  app: string;
  environment: string;
}

/** Runs the start of wave k (0-based) of n in a "promotion wave" span. */
export function tracedWave<T>(p: WaveSpanInput, k: number, n: number, work: (span: Span) => Promise<T>): Promise<T> {
  return inActiveSpan(
    tracer(),
    "promotion wave",
    { attributes: { "flotilla.promotion": p.id, "flotilla.release": p.release_id, "flotilla.app": p.app, "flotilla.environment": p.environment, "flotilla.promotion.wave": k + 1, "flotilla.promotion.waves": n } },
    work,
  );
}

/** A child step of a wave start: "promotion commit" or "promotion pointers". */
export function tracedWaveStep<T>(name: "promotion commit" | "promotion pointers", work: (span: Span) => Promise<T>): Promise<T> {
  return inActiveSpan(tracer(), name, {}, work);
}
