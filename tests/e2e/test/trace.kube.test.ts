// One trace from a commit to every cluster, through real parts: an env repo commit → the hub's
// resolve (fetch → render → publish) → the signed pointer on NATS → each real agent's reconcile
// and its per-app apply on its own kube-apiserver → the status report → the hub's ingest into
// Postgres. Hub and agents run in this process (startLocalFleet), so one in-memory exporter sees
// every span; across processes the same context travels in the pointer and the report headers.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from "@opentelemetry/sdk-trace-base";
import { startTelemetry, type Telemetry } from "@flotilla/hub";
import { startLocalFleet, type LocalFleet } from "flotilla/local-fleet";
import { commitFiles, createWorkRepo } from "@flotilla/envrepo/testing";
import { createTestDatabase, createTestNats, kubeRequest, startControlPlane, waitFor, type ControlPlane, type TestDatabase, type TestNats } from "@flotilla/testkit";
import { useSharedControlPlane } from "@flotilla/testkit/vitest";
import { fleetFile } from "./support/env-repo.js";

const shared = useSharedControlPlane();
const ns = `trace-${randomBytes(3).toString("hex")}`;
const CLUSTERS = ["dev-1", "dev-2"];

const manifests = (colour: string) => ({
  "apps/shop/00-namespace.yaml": `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${ns}\n`,
  "apps/shop/10-config.yaml": `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shop-config\n  namespace: ${ns}\ndata:\n  colour: ${colour}\n`,
});

describe("one trace from a commit to every cluster", () => {
  const spans = new InMemorySpanExporter();
  let telemetry: Telemetry;
  let plane2: ControlPlane;
  let repoDir: string;
  let stateDir: string;
  let nats: TestNats;
  let database: TestDatabase;
  let fleet: LocalFleet;

  beforeAll(async () => {
    telemetry = await startTelemetry({ serviceName: "flotilla-trace-test", spanProcessors: [new SimpleSpanProcessor(spans)] });
    plane2 = await startControlPlane({ name: "e2e-trace-2", controllers: false });
    repoDir = await mkdtemp(join(tmpdir(), "flotilla-trace-repo-"));
    stateDir = await mkdtemp(join(tmpdir(), "flotilla-trace-state-"));
    nats = createTestNats("trace");
    database = await createTestDatabase("trace");
    await createWorkRepo(repoDir, { "flotilla.yaml": fleetFile(CLUSTERS.map((name) => ({ name, environment: "dev" }))), ...manifests("blue") });
    fleet = await startLocalFleet({
      repoPath: repoDir,
      clusters: [
        { name: "dev-1", kubeconfig: shared.kubeConfig },
        { name: "dev-2", kubeconfig: plane2.kubeConfig },
      ],
      natsUrl: nats.url,
      natsPrefix: nats.prefix,
      databaseUrl: database.url,
      stateDir,
      pollIntervalMs: 3_600_000, // the test drives the hub with refresh()
      heartbeatIntervalMs: 60_000,
    });
  });

  afterAll(async () => {
    await fleet?.stop();
    await telemetry?.shutdown();
    if (shared.kubeConfig) await kubeRequest(shared.kubeConfig, { method: "DELETE", path: `/api/v1/namespaces/${ns}` }).catch(() => undefined);
    await plane2?.stop();
    await database?.drop();
    await nats?.cleanup();
    await rm(repoDir, { recursive: true, force: true });
    await rm(stateDir, { recursive: true, force: true });
  });

  const colourOn = async (cluster: string) => {
    const kube = cluster === "dev-1" ? shared.kubeConfig : plane2.kubeConfig;
    const r = await kubeRequest<{ data: { colour: string } }>(kube, { path: `/api/v1/namespaces/${ns}/configmaps/shop-config` });
    return r.status === 200 ? r.body.data.colour : undefined;
  };

  it("fetch → render → publish → each agent's reconcile and apply → its report's ingest share the commit's trace", async () => {
    // Wait for the first revision everywhere, so the spans below are the commit's only.
    for (const c of CLUSTERS) await waitFor(async () => ((await colourOn(c)) === "blue" ? true : undefined), { timeoutMs: 60_000, what: `${c} to run the first revision` });
    await waitFor(async () => {
      const views = await Promise.all(CLUSTERS.map((c) => fleet.api<{ observedRevision?: string; desired?: { revision: string } }>(`/v1/clusters/${c}`)));
      return views.every((v) => v.observedRevision && v.observedRevision === v.desired?.revision) || undefined;
    }, { timeoutMs: 60_000, what: "both clusters to report the first revision" });
    spans.reset();

    const revision = await commitFiles(repoDir, manifests("green"), "shop: green");
    expect((await fleet.refresh()).revision).toBe(revision);
    for (const c of CLUSTERS) await waitFor(async () => ((await colourOn(c)) === "green" ? true : undefined), { timeoutMs: 60_000, what: `${c} to apply the commit` });

    const all = () => spans.getFinishedSpans();
    const resolve = all().find((s) => s.name === "resolve" && s.attributes["flotilla.revision"] === revision);
    expect(resolve, all().map((s) => s.name).join(", ")).toBeDefined();
    const traceId = resolve!.spanContext().traceId;
    const childrenOf = (parent: ReadableSpan) => all().filter((s) => s.parentSpanContext?.spanId === parent.spanContext().spanId);
    const steps = childrenOf(resolve!);
    expect(steps.map((s) => s.name)).toEqual(["fetch", "render", "publish"]);
    const publish = steps[2]!;

    // Every cluster's reconcile of the commit is a child of the publish span, with an apply per
    // app under it, and the status report it sent is ingested in a child span of that reconcile.
    const statusIngests = (reconcile: ReadableSpan) => childrenOf(reconcile).filter((s) => s.name === "ingest report" && s.attributes["flotilla.report.kind"] === "status");
    const reconciles = await waitFor(
      () => {
        const found = CLUSTERS.map((c) => all().find((s) => s.name === "reconcile" && s.attributes["flotilla.cluster"] === c && s.attributes["flotilla.revision"] === revision));
        return found.every((r) => r && statusIngests(r).length > 0) ? (found as ReadableSpan[]) : undefined;
      },
      { timeoutMs: 30_000, what: "each cluster's reconcile span with its status report ingested" },
    );
    for (const [i, reconcile] of reconciles.entries()) {
      expect(reconcile.spanContext().traceId).toBe(traceId);
      expect(reconcile.parentSpanContext?.spanId).toBe(publish.spanContext().spanId);
      expect(reconcile.parentSpanContext?.isRemote).toBe(true);
      const applies = childrenOf(reconcile).filter((s) => s.name === "apply");
      expect(applies.map((s) => s.attributes)).toEqual([expect.objectContaining({ "flotilla.cluster": CLUSTERS[i], "flotilla.app": "shop", "flotilla.objects": 2, "flotilla.objects_failed": 0 })]);
      for (const ingest of statusIngests(reconcile)) {
        expect(ingest.spanContext().traceId).toBe(traceId);
        expect(ingest.attributes["flotilla.ingest.outcome"]).toBe("ingested");
      }
    }
  });
});
