// Observability across the wire, on the real NATS JetStream and PostgreSQL 15 (no Kubernetes):
// a report queued by the agent's NatsReporter inside a span is ingested by the hub in a span of
// the same trace, and the hub API's GET /metrics shows the ingest, rejection and agent counters.
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { trace, type Span } from "@opentelemetry/api";
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import type { FastifyInstance } from "fastify";
import { Health, SyncState } from "@flotilla/model";
import { NatsReporter, countDrift, observeReconciler, tracedReconcile } from "@flotilla/cluster-agent";
import { BundlePublisher, buildApi, createResolver, mintApiToken, Role, startIngest, startTelemetry, type IngestHandle, type Telemetry } from "@flotilla/hub";
import { openEnvRepo } from "@flotilla/envrepo";
import { createWorkRepo, readFilesFrom } from "@flotilla/envrepo/testing";
import { migrateToLatest, openDatabase, type FleetDatabase } from "@flotilla/store";
import { createTestDatabase, createTestNats, type TestDatabase, type TestNats } from "@flotilla/testkit";
import { encodeJson, generateSigningKey, reportSubject, verifyPointer, wireNames, type WireNames } from "@flotilla/wire";

const EXAMPLE = fileURLToPath(new URL("../../../examples/env-repo", import.meta.url));

const CLUSTER = "edge-7";
type StatusBody = Parameters<NatsReporter["status"]>[0];
const status = (generation: number): StatusBody => ({
  generation,
  revision: "b".repeat(40),
  bundleDigest: `sha256:${"1".repeat(64)}`,
  syncState: SyncState.Synced,
  health: Health.Healthy,
  apps: [],
});

async function waitFor<T>(what: string, probe: () => T | Promise<T>, done: (v: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last = await probe();
  while (!done(last)) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)}`);
    await new Promise((r) => setTimeout(r, 25));
    last = await probe();
  }
  return last;
}

describe("telemetry: agent report → hub ingest", () => {
  const spans = new InMemorySpanExporter();
  let telemetry: Telemetry;
  let tn: TestNats;
  let names: WireNames;
  let nc: NatsConnection;
  let testDb: TestDatabase;
  let fleet: FleetDatabase;
  let ingest: IngestHandle;
  let api: FastifyInstance;
  let reporter: NatsReporter;

  beforeAll(async () => {
    telemetry = await startTelemetry({ serviceName: "flotilla-test", prometheus: true, spanProcessors: [new SimpleSpanProcessor(spans)] });
  });
  afterAll(async () => {
    await telemetry.shutdown();
  });

  beforeEach(async () => {
    spans.reset();
    tn = createTestNats("telemetry");
    names = wireNames(tn.prefix);
    nc = await connect({ servers: tn.url });
    testDb = await createTestDatabase("telemetry");
    fleet = await openDatabase({ url: testDb.url });
    await migrateToLatest(fleet.db);
    ingest = await startIngest({ nc, names, db: fleet.db });
    api = buildApi({ db: fleet.db, metrics: telemetry.metricsHandler!, auth: { insecureNoAuth: true } });
    reporter = new NatsReporter({ connection: nc, names, cluster: CLUSTER, agent: `${CLUSTER}/agent-0/1`, retry: { initialMs: 50, maxMs: 400 } });
  });
  afterEach(async () => {
    await reporter.stop();
    await ingest.stop();
    await api.close();
    await nc.close();
    await tn.cleanup();
    await fleet.close();
    await testDb.drop();
  });

  const ingestSpans = () => spans.getFinishedSpans().filter((s) => s.name === "ingest report");
  const scrape = async () => {
    const res = await api.inject({ method: "GET", url: "/metrics" });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^text\/plain/);
    return res.body;
  };
  /** The value of the sample of `name` whose labels include `labels` (the exporter adds otel_scope_name). */
  const sample = (text: string, name: string, labels: Record<string, string>): number | undefined => {
    for (const line of text.split("\n")) {
      const m = /^([a-zA-Z_:][\w:]*)\{(.*)\} (\S+)$/.exec(line);
      if (!m || m[1] !== name) continue;
      const got = Object.fromEntries([...m[2]!.matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
      if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
    }
    return undefined;
  };

  it("a report queued inside a span is ingested in a child span of the same trace", async () => {
    let agentSpan: Span | undefined;
    trace.getTracer("test-agent").startActiveSpan("reconcile", (span) => {
      agentSpan = span;
      reporter.status(status(1));
      span.end();
    });
    await reporter.flush();
    await waitFor("the report ingested", () => ingest.counts.ingested, (n) => n === 1);
    const [ingested] = await waitFor("the ingest span", ingestSpans, (s) => s.length === 1);
    const parent = agentSpan!.spanContext();
    expect(ingested!.spanContext().traceId).toBe(parent.traceId);
    expect(ingested!.parentSpanContext?.spanId).toBe(parent.spanId);
    expect(ingested!.parentSpanContext?.isRemote).toBe(true);
    expect(ingested!.attributes).toMatchObject({
      "messaging.destination.name": reportSubject(names, CLUSTER, "status"),
      "flotilla.report.kind": "status",
      "flotilla.ingest.outcome": "ingested",
    });
  });

  it("the agent's reconcile span (tracedReconcile) is the parent of the hub's ingest span", async () => {
    await tracedReconcile(CLUSTER, { pointer: { generation: 3, revision: "c".repeat(40) } }, async () => {
      reporter.status(status(3));
    });
    await reporter.flush();
    const [ingested] = await waitFor("the ingest span", ingestSpans, (s) => s.length === 1);
    const reconcile = spans.getFinishedSpans().find((s: ReadableSpan) => s.name === "reconcile");
    expect(reconcile?.attributes).toMatchObject({ "flotilla.cluster": CLUSTER, "flotilla.generation": 3 });
    expect(ingested!.spanContext().traceId).toBe(reconcile!.spanContext().traceId);
    expect(ingested!.parentSpanContext?.spanId).toBe(reconcile!.spanContext().spanId);
    // The reconcile was timed too.
    expect(sample(await scrape(), "flotilla_agent_apply_duration_count", { cluster: CLUSTER })).toBeGreaterThanOrEqual(1);
  });

  it("one trace runs from the resolve through the signed pointer to the agent's reconcile and the hub's ingest", async () => {
    const dir = await mkdtemp(join(tmpdir(), "telemetry-envrepo-"));
    try {
      await createWorkRepo(dir, await readFilesFrom(EXAMPLE));
      const key = generateSigningKey();
      const publisher = new BundlePublisher({ nc, names });
      const sink = { onClusters: async () => {}, onPublished: async () => {}, onRenderFailed: async () => {}, onRenderSucceeded: async () => {} };
      const resolver = createResolver({ repo: openEnvRepo({ path: dir }), publisher, signingKey: key, sink, nextGeneration: async () => 1 });
      const outcome = await resolver.refresh();
      expect(outcome.failed).toBe(false);
      const resolve = spans.getFinishedSpans().find((s) => s.name === "resolve")!;
      expect(resolve).toBeDefined();
      // fetch → render → publish are the resolve's steps, in that order.
      const steps = spans.getFinishedSpans().filter((s) => s.parentSpanContext?.spanId === resolve.spanContext().spanId);
      expect(steps.map((s) => s.name)).toEqual(["fetch", "render", "publish"]);
      const publish = steps[2]!;

      // Every published pointer names the publish span as its trace parent, and is signed with it.
      const pointer = (await publisher.readPointer("dev-1"))!;
      expect(pointer.trace?.traceparent).toBe(`00-${publish.spanContext().traceId}-${publish.spanContext().spanId}-01`);
      expect(verifyPointer(pointer, key.publicKey)).toBe(true);
      expect(verifyPointer({ ...pointer, trace: { traceparent: `00-${"a".repeat(32)}-${"b".repeat(16)}-01` } }, key.publicKey)).toBe(false);

      // The agent's reconcile of that pointer continues the trace; its report's ingest joins it.
      await tracedReconcile(CLUSTER, { pointer }, async () => {
        reporter.status(status(pointer.generation));
      });
      await reporter.flush();
      const [ingested] = await waitFor("the ingest span", ingestSpans, (s) => s.length === 1);
      const reconcile = spans.getFinishedSpans().find((s) => s.name === "reconcile")!;
      expect(reconcile.spanContext().traceId).toBe(resolve.spanContext().traceId);
      expect(reconcile.parentSpanContext?.spanId).toBe(publish.spanContext().spanId);
      expect(ingested!.spanContext().traceId).toBe(resolve.spanContext().traceId);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("a report queued outside any span is ingested in a root span (no traceparent sent)", async () => {
    reporter.heartbeat({ generation: 1, deadlineSeconds: 30 });
    await reporter.flush();
    const [ingested] = await waitFor("the ingest span", ingestSpans, (s) => s.length === 1);
    expect(ingested!.parentSpanContext).toBeUndefined();
  });

  it("GET /metrics counts ingested reports by kind and outcome, and rejected ones by code", async () => {
    const before = await scrape();
    const ingestedStatus = { kind: "status", outcome: "ingested" };
    const start = sample(before, "flotilla_hub_reports_ingested_total", ingestedStatus) ?? 0;
    reporter.status(status(1));
    await reporter.flush();
    await waitFor("the report ingested", () => ingest.counts.ingested, (n) => n === 1);
    // A report for another cluster on this cluster's subject: rejected (and acked).
    const foreign = { ...status(1), kind: "status", id: randomUUID(), cluster: "someone-else", agent: "x/y/1", at: new Date().toISOString() };
    await jetstream(nc).publish(reportSubject(names, CLUSTER, "status"), encodeJson(foreign), { msgID: foreign.id });
    await waitFor("the report rejected", () => ingest.counts.rejected, (n) => n === 1);

    const text = await scrape();
    expect(text).toContain("# TYPE flotilla_hub_reports_ingested_total counter");
    expect(sample(text, "flotilla_hub_reports_ingested_total", ingestedStatus)).toBe(start + 1);
    expect(sample(text, "flotilla_hub_reports_ingested_total", { kind: "status", outcome: "rejected" })).toBeGreaterThanOrEqual(1);
    expect(sample(text, "flotilla_hub_reports_rejected_total", { code: "FLOTILLA_ERR_FORBIDDEN" })).toBeGreaterThanOrEqual(1);
  });

  it("GET /metrics shows a reconciler's counters as observable counters until it is unobserved", async () => {
    const counters = { reconciles: 3, reverts: 2, revertFailures: 1, refusals: 4 };
    const stop = observeReconciler("obs-1", counters);
    let text = await scrape();
    expect(sample(text, "flotilla_agent_reconciles_total", { cluster: "obs-1" })).toBe(3);
    expect(sample(text, "flotilla_agent_reverts_total", { cluster: "obs-1" })).toBe(2);
    expect(sample(text, "flotilla_agent_refusals_total", { cluster: "obs-1" })).toBe(4);
    counters.reconciles = 5;
    text = await scrape();
    expect(sample(text, "flotilla_agent_reconciles_total", { cluster: "obs-1" })).toBe(5);
    // A second agent in the same process (local fleets): its own series next to the first.
    const stopOther = observeReconciler("obs-2", { reconciles: 1, reverts: 0, revertFailures: 0, refusals: 0 });
    text = await scrape();
    expect(sample(text, "flotilla_agent_reconciles_total", { cluster: "obs-2" })).toBe(1);
    expect(sample(text, "flotilla_agent_reconciles_total", { cluster: "obs-1" })).toBe(5);
    stopOther();
    countDrift("obs-1", "reverted", "enforce");
    expect(sample(await scrape(), "flotilla_agent_drifts_total", { cluster: "obs-1", action: "reverted", policy: "enforce" })).toBe(1);
    stop();
    counters.reconciles = 9;
    text = await scrape();
    expect(sample(text, "flotilla_agent_reconciles_total", { cluster: "obs-1" })).not.toBe(9);
  });

  it("GET /metrics needs a viewer token, and is absent without a handler", async () => {
    const { token, entry } = mintApiToken({ subject: "prometheus", roles: [Role.Viewer] });
    const guarded = buildApi({ db: fleet.db, metrics: telemetry.metricsHandler!, auth: { tokens: [entry] } });
    const plain = buildApi({ db: fleet.db, auth: { tokens: [entry] } });
    try {
      expect((await guarded.inject({ method: "GET", url: "/metrics" })).statusCode).toBe(401);
      const ok = await guarded.inject({ method: "GET", url: "/metrics", headers: { authorization: `Bearer ${token}` } });
      expect(ok.statusCode).toBe(200);
      expect(ok.body).toContain("target_info");
      expect((await plain.inject({ method: "GET", url: "/metrics", headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(404);
    } finally {
      await guarded.close();
      await plain.close();
    }
  });
});
