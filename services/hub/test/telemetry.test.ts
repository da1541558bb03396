// The hub's resolve telemetry (span "resolve", render duration, render failures, pointers
// published) and startHub({ telemetry: true }) serving GET /metrics, on the real NATS.
import { SpanStatusCode } from "@opentelemetry/api";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base";
import { generateSigningKey, wireNames, type WireNames } from "@flotilla/wire";
import { openEnvRepo } from "@flotilla/envrepo";
import { commitFiles, createWorkRepo, readFilesFrom } from "@flotilla/envrepo/testing";
import { createTestNats, type TestNats } from "@flotilla/testkit";
import { BundlePublisher } from "../src/publish.js";
import { createResolver, type ResolverSink } from "../src/resolver.js";
import { startTelemetry, type Telemetry } from "../src/telemetry-sdk.js";
import { startHub } from "../src/hub.js";
import { mintApiToken, Role } from "../src/api/index.js";

const EXAMPLE = fileURLToPath(new URL("../../../examples/env-repo", import.meta.url));
const quietSink: ResolverSink = { async onClusters() {}, async onPublished() {}, async onRenderFailed() {}, async onRenderSucceeded() {} };

/** The value of the sample of `name` whose labels include `labels` (undefined when absent). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split("\n")) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = Object.fromEntries([...(m[2] ?? "").matchAll(/(\w+)="([^"]*)"/g)].map((l) => [l[1], l[2]]));
    if (Object.entries(labels).every(([k, v]) => got[k] === v)) return Number(m[3]);
  }
  return undefined;
}

let nats: TestNats;
let nc: NatsConnection;
let names: WireNames;
let dir: string;

beforeEach(async () => {
  nats = createTestNats("hubtel");
  nc = await connect({ servers: nats.url });
  names = wireNames(nats.prefix);
  dir = await mkdtemp(join(tmpdir(), "hub-telemetry-"));
  await createWorkRepo(dir, await readFilesFrom(EXAMPLE));
});
afterEach(async () => {
  await nc.close();
  await nats.cleanup();
  await rm(dir, { recursive: true, force: true });
});

describe("resolver telemetry", () => {
  let telemetry: Telemetry | undefined;
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
    await telemetry?.shutdown();
  });

  it("records a resolve span, the render duration, render failures once per revision and published pointers", async () => {
    const spans = new InMemorySpanExporter();
    telemetry = await startTelemetry({ serviceName: "flotilla-hub", prometheus: true, spanProcessors: [new SimpleSpanProcessor(spans)] });
    server = createServer(telemetry.metricsHandler!);
    await new Promise<void>((r) => server!.listen(0, "127.0.0.1", r));
    const scrape = async () => (await fetch(`http://127.0.0.1:${(server!.address() as { port: number }).port}/metrics`)).text();

    let generation = 0;
    const resolver = createResolver({
      repo: openEnvRepo({ path: dir }),
      publisher: new BundlePublisher({ nc, names }),
      signingKey: generateSigningKey(),
      sink: quietSink,
      nextGeneration: async () => ++generation,
    });
    await new BundlePublisher({ nc, names }).ensureResources();
    const good = await resolver.refresh();
    expect(good).toMatchObject({ published: 2, failed: false });
    const [resolve] = spans.getFinishedSpans().filter((s) => s.name === "resolve");
    expect(resolve?.attributes).toMatchObject({ "flotilla.revision": good.revision, "flotilla.pointers_published": 2, "flotilla.failed": false });

    let text = await scrape();
    expect(sample(text, "flotilla_hub_pointers_published_total")).toBe(2);
    expect(sample(text, "flotilla_hub_render_duration_count", { outcome: "ok" })).toBe(1);
    expect(sample(text, "flotilla_hub_render_duration_bucket", { outcome: "ok", le: "300" })).toBe(1);
    expect(sample(text, "flotilla_hub_render_failures_total")).toBeUndefined();

    await commitFiles(dir, { "apps/shop/10-inventory-api.yaml": "kind: [\n" }, "Break it");
    expect(await resolver.refresh()).toMatchObject({ failed: true });
    expect(await resolver.refresh()).toMatchObject({ failed: true }); // same revision: not counted again
    text = await scrape();
    expect(sample(text, "flotilla_hub_render_failures_total")).toBe(1);
    expect(sample(text, "flotilla_hub_render_duration_count", { outcome: "failed" })).toBe(1);
    expect(sample(text, "flotilla_hub_pointers_published_total")).toBe(2);
    expect(spans.getFinishedSpans().filter((s) => s.name === "resolve")).toHaveLength(3);
    // One "render" span per rendered revision (the same revision again renders nothing): ok, then failed.
    expect(spans.getFinishedSpans().filter((s) => s.name === "render").map((s) => s.status.code)).toEqual([SpanStatusCode.UNSET, SpanStatusCode.ERROR]);
  });
});

describe("startHub({ telemetry: true })", () => {
  it("serves GET /metrics on the API and unregisters its providers on stop", async () => {
    const { token, entry } = mintApiToken({ subject: "prometheus", roles: [Role.Viewer] });
    const hub = await startHub({ auth: { tokens: [entry] }, repo: { path: dir }, natsUrl: nats.url, natsPrefix: nats.prefix, signingKey: generateSigningKey(), port: 0, telemetry: true, hubId: "metrics-hub" });
    try {
      expect((await fetch(`${hub.url}/metrics`)).status).toBe(401);
      const res = await fetch(`${hub.url}/metrics`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text).toMatch(/^target_info\{service_name="flotilla-hub"/m);
      expect(sample(text, "flotilla_hub_pointers_published_total")).toBe(2);
      // The embedded database: this hub is the sole replica, so it leads.
      expect(text).toMatch(/^flotilla_hub_leader\{identity="metrics-hub"[,}].* 1$/m);
    } finally {
      await hub.stop();
    }
    // Stopped: a second telemetry start in this process registers again.
    const again = await startTelemetry({ serviceName: "flotilla-hub", prometheus: true });
    try {
      const { metrics } = await import("@opentelemetry/api");
      metrics.getMeter("probe").createCounter("probe.count").add(1);
      const res = await new Promise<string>((resolve) => {
        const s = createServer(again.metricsHandler!).listen(0, "127.0.0.1", async () => {
          resolve(await (await fetch(`http://127.0.0.1:${(s.address() as { port: number }).port}/metrics`)).text());
          s.close();
        });
      });
      expect(sample(res, "probe_count_total")).toBe(1);
    } finally {
      await again.shutdown();
    }
  });
});
