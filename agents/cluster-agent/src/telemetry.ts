// The agent's metrics and spans (meter and tracer "flotilla-agent"), through @opentelemetry/api
// only: the process that runs the agent starts the SDK (the CLI: startTelemetry of @flotilla/hub);
// without one every call here is a no-op.
//
// Metrics (Prometheus names in parentheses), each labelled with the cluster:
//   flotilla.agent.reconciles        observable counter  (flotilla_agent_reconciles_total)
//   flotilla.agent.reverts           observable counter  (flotilla_agent_reverts_total): revert writes
//   flotilla.agent.revert_failures   observable counter  (flotilla_agent_revert_failures_total)
//   flotilla.agent.refusals          observable counter  (flotilla_agent_refusals_total): desired states refused
//   flotilla.agent.drifts            counter  action, policy  (flotilla_agent_drifts_total): drift events reported
//   flotilla.agent.apply.duration    histogram s  (flotilla_agent_apply_duration): one full reconcile
// Spans: "reconcile" (one desired state applied) with an "apply" child per app, "revert" (one drift revert). Reports queued inside
// a span carry its trace context to the hub (nats-reporter.ts).
import { SpanStatusCode, metrics, trace, type BatchObservableResult, type Counter, type Histogram } from "@opentelemetry/api";
import { ChangeAction, type PointerTrace } from "@flotilla/model";
import { SECONDS_BUCKETS, contextFromTrace, inActiveSpan, providerInstruments } from "@flotilla/wire";

export const AGENT_METER = "flotilla-agent";

/** The Reconciler's counters that are exposed as observable counters. */
export interface ReconcilerCounters {
  readonly reconciles: number;
  readonly reverts: number;
  readonly revertFailures: number;
  readonly refusals: number;
}

interface AgentInstruments {
  drifts: Counter;
  applyDuration: Histogram;
}

// Made again whenever the global meter provider changes (see providerInstruments).
const instruments = providerInstruments<AgentInstruments>(AGENT_METER, (meter) => ({
  drifts: meter.createCounter("flotilla.agent.drifts", { description: "Drift events reported, by the action taken and the drift policy" }),
  applyDuration: meter.createHistogram("flotilla.agent.apply.duration", { unit: "s", description: "Time of one full reconcile: apply, prune, inventories, watches", advice: { explicitBucketBoundaries: SECONDS_BUCKETS } }),
}));

const tracer = () => trace.getTracer(AGENT_METER);

/**
 * Exposes a reconciler's counters as observable counters (read at each scrape, so the loop is
 * not touched). Returns the function that stops observing (call it when the agent stops).
 */
export function observeReconciler(cluster: string, counters: ReconcilerCounters): () => void {
  const meter = metrics.getMeter(AGENT_METER);
  const observed = {
    reconciles: meter.createObservableCounter("flotilla.agent.reconciles", { description: "Full reconciles run" }),
    reverts: meter.createObservableCounter("flotilla.agent.reverts", { description: "Drift reverts written by the agent" }),
    revertFailures: meter.createObservableCounter("flotilla.agent.revert_failures", { description: "Drift reverts that failed (retried with backoff)" }),
    refusals: meter.createObservableCounter("flotilla.agent.refusals", { description: "Desired states refused (bad signature, digest, older generation)" }),
  };
  const attributes = { cluster };
  const callback = (result: BatchObservableResult) => {
    result.observe(observed.reconciles, counters.reconciles, attributes);
    result.observe(observed.reverts, counters.reverts, attributes);
    result.observe(observed.revertFailures, counters.revertFailures, attributes);
    result.observe(observed.refusals, counters.refusals, attributes);
  };
  const all = Object.values(observed);
  meter.addBatchObservableCallback(callback, all);
  return () => meter.removeBatchObservableCallback(callback, all);
}

/** Runs one reconcile in a "reconcile" span (the active one, so its reports carry its trace) and times it. */
export function tracedReconcile(
  cluster: string,
  desired: { pointer: { generation: number; revision: string; trace?: PointerTrace } },
  reconcile: () => Promise<void>,
): Promise<void> {
  const attributes = { "flotilla.cluster": cluster, "flotilla.generation": desired.pointer.generation, "flotilla.revision": desired.pointer.revision };
  return inActiveSpan(tracer(), "reconcile", { attributes }, async () => {
    const started = performance.now();
    try {
      await reconcile();
    } finally {
      instruments().applyDuration.record((performance.now() - started) / 1000, { cluster });
    }
  }, contextFromTrace(desired.pointer.trace));
}

/** Applies one app of a reconcile in an "apply" span (a child of "reconcile"); a failed object marks it failed. */
export function tracedApply<T extends { entries: readonly { action: string }[] }>(cluster: string, app: string, objects: number, apply: () => Promise<T>): Promise<T> {
  return inActiveSpan(tracer(), "apply", { attributes: { "flotilla.cluster": cluster, "flotilla.app": app, "flotilla.objects": objects } }, async (span) => {
    const result = await apply();
    const failed = result.entries.filter((e) => e.action === ChangeAction.Failed).length;
    span.setAttribute("flotilla.objects_failed", failed);
    if (failed > 0) span.setStatus({ code: SpanStatusCode.ERROR });
    return result;
  });
}

/** Runs one drift revert in a "revert" span (its drift report carries the trace). */
export function tracedRevert(cluster: string, key: string, revert: () => Promise<void>): Promise<void> {
  return inActiveSpan(tracer(), "revert", { attributes: { "flotilla.cluster": cluster, "flotilla.object": key } }, revert);
}

/** A drift event was reported. */
export function countDrift(cluster: string, action: string, policy: string): void {
  instruments().drifts.add(1, { cluster, action, policy });
}
