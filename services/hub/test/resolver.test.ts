import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { Objm } from "@nats-io/obj";
import { ErrorCode, type Cluster, type ErrorInfo, type SignedPointer } from "@flotilla/model";
import { bundleStoreOf, generateSigningKey, verifyPointer, wireNames, type SigningKey, type WireNames } from "@flotilla/wire";
import { openEnvRepo, revertCommit } from "@flotilla/envrepo";
import { commitFiles, createWorkRepo, pushWorkRepo, readFilesFrom, startGitHttpServer } from "@flotilla/envrepo/testing";
import { createTestNats, waitFor, type TestNats } from "@flotilla/testkit";
import { BundlePublisher } from "../src/publish.js";
import { createResolver, type ResolverSink } from "../src/resolver.js";

const EXAMPLE = fileURLToPath(new URL("../../../examples/env-repo", import.meta.url));
const DEPLOYMENT = "apps/shop/10-inventory-api.yaml";

/** Records what the resolver tells the sink. */
class RecordingSink implements ResolverSink {
  clusters: Cluster[][] = [];
  published: SignedPointer[] = [];
  failed: { revision: string; errors: ErrorInfo[] }[] = [];
  succeeded: string[] = [];
  async onClusters(c: Cluster[]) {
    this.clusters.push(c);
  }
  async onPublished(p: SignedPointer) {
    this.published.push(p);
  }
  async onRenderFailed(revision: string, errors: ErrorInfo[]) {
    this.failed.push({ revision, errors });
  }
  async onRenderSucceeded(revision: string) {
    this.succeeded.push(revision);
  }
}

let nats: TestNats;
let nc: NatsConnection;
let names: WireNames;
let dir: string;
let key: SigningKey;
const generations = new Map<string, number>();
const nextGeneration = async (cluster: string) => {
  const g = (generations.get(cluster) ?? 0) + 1;
  generations.set(cluster, g);
  return g;
};

beforeEach(async () => {
  nats = createTestNats("resolver");
  nc = await connect({ servers: nats.url });
  names = wireNames(nats.prefix);
  dir = await mkdtemp(join(tmpdir(), "hub-resolver-"));
  await createWorkRepo(dir, await readFilesFrom(EXAMPLE));
  key = generateSigningKey();
  generations.clear();
});
afterEach(async () => {
  await nc?.close();
  await nats?.cleanup();
  await rm(dir, { recursive: true, force: true });
});

function setup() {
  const publisher = new BundlePublisher({ nc, names });
  const sink = new RecordingSink();
  const resolver = createResolver({ repo: openEnvRepo({ path: dir }), publisher, signingKey: key, sink, nextGeneration });
  return { publisher, sink, resolver };
}

async function pointers(publisher: BundlePublisher) {
  return { dev: await publisher.readPointer("dev-1"), prod: await publisher.readPointer("prod-1") };
}

describe("resolver", () => {
  it("publishes a signed pointer per cluster whose bundle is stored under its digest", async () => {
    const { publisher, sink, resolver } = setup();
    await publisher.ensureResources();
    const outcome = await resolver.refresh();
    expect(outcome).toMatchObject({ published: 2, failed: false });
    expect(outcome.revision).toMatch(/^[0-9a-f]{40}$/);

    const { dev, prod } = await pointers(publisher);
    for (const p of [dev!, prod!]) {
      expect(verifyPointer(p, key.publicKey)).toBe(true);
      expect(verifyPointer({ ...p, generation: p.generation + 1 }, key.publicKey)).toBe(false);
      expect(p).toMatchObject({ revision: outcome.revision, generation: 1, keyId: key.keyId, commit: { message: "Initial env repo" } });
      const bundle = await publisher.readBundle(p);
      expect(bundle?.cluster).toBe(p.cluster);
      expect(bundle?.apps.map((a) => [a.name, a.policy.drift, a.objects.map((o) => `${o.kind}/${o.metadata.name}`)])).toEqual([
        ["shop", "enforce", ["Namespace/shop", "Deployment/inventory-api"]],
      ]);
    }
    expect(sink.clusters[0]!.map((c) => c.name)).toEqual(["dev-1", "prod-1"]);
    expect(sink.published.map((p) => p.cluster).sort()).toEqual(["dev-1", "prod-1"]);
    expect(sink.succeeded).toEqual([outcome.revision]);

    // Nothing new in the repo: nothing published.
    expect(await resolver.refresh()).toMatchObject({ revision: outcome.revision, published: 0, failed: false });
    expect(sink.published).toHaveLength(2);
  });

  it("keeps the last good pointers when a commit fails to render, and reports file and line", async () => {
    const { publisher, sink, resolver } = setup();
    const good = await resolver.refresh();
    const before = await pointers(publisher);

    const broken = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: inventory-api\n  namespace: shop\nspec:\n  replicas: [2\n";
    const bad = await commitFiles(dir, { [DEPLOYMENT]: broken }, "Break the deployment");
    const outcome = await resolver.refresh();
    expect(outcome).toMatchObject({ revision: bad, published: 0, failed: true });
    expect(sink.failed).toHaveLength(1);
    expect(sink.failed[0]!.revision).toBe(bad);
    const [error] = sink.failed[0]!.errors;
    expect(error!.code).toBe(ErrorCode.ManifestInvalid);
    expect(error!.location).toMatchObject({ file: DEPLOYMENT, line: 7 });
    expect(error!.message).toMatch(new RegExp(`^app shop: ${DEPLOYMENT}:7: invalid YAML`));
    expect(await pointers(publisher)).toEqual(before);
    expect(before.dev!.revision).toBe(good.revision);

    // A broken fleet file is refused the same way, naming its line.
    await commitFiles(dir, { "flotilla.yaml": (await readFilesFrom(EXAMPLE))["flotilla.yaml"]!.replace("environment: prod", "environment: staging") }, "Typo");
    const fleetOutcome = await resolver.refresh();
    expect(fleetOutcome.failed).toBe(true);
    expect(fleetOutcome.errors?.[0]?.message).toMatch(/^flotilla\.yaml:\d+: clusters\[1\]\.environment "staging" is not one of the environments \(dev, prod\)$/);
    expect(await pointers(publisher)).toEqual(before);
    expect(sink.published).toHaveLength(2);
  });

  it("raises the generation on every new revision, also when a revert brings back earlier objects", async () => {
    const { publisher, resolver } = setup();
    await resolver.refresh();
    const first = await pointers(publisher);
    const firstBundle = await publisher.readBundle(first.prod!);

    const text = (await readFilesFrom(EXAMPLE))[DEPLOYMENT]!;
    const scaled = await commitFiles(dir, { [DEPLOYMENT]: text.replace("replicas: 2", "replicas: 5") }, "Scale inventory-api to 5");
    await resolver.refresh();
    const second = await pointers(publisher);
    expect(second.prod).toMatchObject({ revision: scaled, generation: 2 });
    expect(second.prod!.bundleDigest).not.toBe(first.prod!.bundleDigest);

    const reverted = await revertCommit(dir, scaled);
    const outcome = await resolver.refresh();
    expect(outcome).toMatchObject({ revision: reverted, published: 2 });
    const third = await pointers(publisher);
    expect(third.prod).toMatchObject({ revision: reverted, generation: 3, commit: { message: 'Revert "Scale inventory-api to 5"' } });
    expect(third.dev!.generation).toBe(3);
    expect(verifyPointer(third.prod!, key.publicKey)).toBe(true);
    const thirdBundle = await publisher.readBundle(third.prod!);
    expect(thirdBundle!.apps).toEqual(firstBundle!.apps);

    // A stale generation is refused by the publisher itself.
    await expect(
      publisher.publishPointer({ ...first.prod!, generation: 2, issuedAt: new Date().toISOString() }, key),
    ).rejects.toMatchObject({ code: ErrorCode.StaleGeneration });
  });

  it("stores identical bundles once: a restarted hub re-resolving the same revision writes nothing new", async () => {
    const a = setup();
    await a.resolver.refresh();
    expect(a.publisher.stats).toEqual({ stored: 2, reused: 0 });
    const before = await pointers(a.publisher);

    const b = setup();
    const outcome = await b.resolver.refresh();
    expect(outcome).toMatchObject({ published: 0, failed: false });
    // It reads the bundles the current pointers name, finds the same content and stores nothing.
    expect(b.publisher.stats).toEqual({ stored: 0, reused: 0 });
    expect(await pointers(b.publisher)).toEqual(before);
    const objects: string[] = [];
    for (const cluster of ["dev-1", "prod-1"]) {
      const store = await new Objm(nc).open(bundleStoreOf(names, cluster));
      objects.push(...(await store.list()).filter((o) => !o.deleted).map((o) => o.name));
    }
    expect(objects.sort()).toEqual([before.dev!.bundleDigest, before.prod!.bundleDigest].sort());
    expect(generations.get("prod-1")).toBe(1);
  });

  it("a commit that renders byte-identical bundles issues no new pointer; the pointer keeps naming the commit that made it", async () => {
    const { publisher, resolver } = setup();
    await resolver.refresh();
    const before = await pointers(publisher);
    const readme = await commitFiles(dir, { "README.md": "# notes that no app reads\n" }, "Docs only");
    expect(await resolver.refresh()).toMatchObject({ revision: readme, published: 0, failed: false });
    expect(await pointers(publisher)).toEqual(before);

    // A restarted hub learns the content of the current bundles and does not republish either.
    const again = setup();
    expect(await again.resolver.refresh()).toMatchObject({ revision: readme, published: 0 });
    expect(await pointers(again.publisher)).toEqual(before);

    const text = (await readFilesFrom(EXAMPLE))[DEPLOYMENT]!;
    const scaled = await commitFiles(dir, { [DEPLOYMENT]: text.replace("replicas: 2", "replicas: 3") }, "Scale");
    expect(await again.resolver.refresh()).toMatchObject({ revision: scaled, published: 2 });
    expect((await pointers(again.publisher)).prod).toMatchObject({ revision: scaled, generation: 2 });
  });

  it("runs one resolve at a time: refreshes during a resolve wait and coalesce into one re-run", async () => {
    const { sink, resolver } = setup();
    const [r1, r2, r3] = await Promise.all([resolver.refresh(), resolver.refresh(), resolver.refresh()]);
    expect(r1.published).toBe(2);
    expect(r2.published + r3.published).toBe(0);
    expect(r2).toEqual(r3);
    expect(sink.published).toHaveLength(2);
  });

  it("polls the repo after start() and stops cleanly", async () => {
    const publisher = new BundlePublisher({ nc, names });
    const sink = new RecordingSink();
    const waiters: { count: number; resolve: () => void }[] = [];
    const publishedCount = (count: number) =>
      new Promise<void>((resolve) => (sink.published.length >= count ? resolve() : waiters.push({ count, resolve })));
    sink.onPublished = async (p) => {
      sink.published.push(p);
      for (const w of waiters) if (sink.published.length >= w.count) w.resolve();
    };
    const resolver = createResolver({ repo: openEnvRepo({ path: dir }), publisher, signingKey: key, sink, nextGeneration, pollIntervalMs: 50 });
    resolver.start();
    await publishedCount(2); // the initial resolve
    await commitFiles(dir, { "apps/shop/20-config.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: cfg, namespace: shop }\n" }, "Add config");
    await publishedCount(4); // a poll saw the new commit
    await resolver.stop();
    expect(new Set(sink.published.map((p) => p.revision)).size).toBe(2);
    expect(sink.published.slice(2).map((p) => p.generation)).toEqual([2, 2]);
  });

  it("resolves an env repo served over HTTP with a token, and keeps pointers while it is unreachable", async () => {
    const server = await startGitHttpServer({ token: "hub-token" });
    try {
      const url = server.createBareRepo("fleet");
      await pushWorkRepo(dir, url, { token: "hub-token" });
      const publisher = new BundlePublisher({ nc, names });
      const sink = new RecordingSink();
      const repo = openEnvRepo({ url, token: "hub-token", workDir: join(dir, ".hub-clone") });
      const resolver = createResolver({ repo, publisher, signingKey: key, sink, nextGeneration });
      const first = await resolver.refresh();
      expect(first).toMatchObject({ published: 2, failed: false });

      const text = (await readFilesFrom(EXAMPLE))[DEPLOYMENT]!;
      const scaled = await commitFiles(dir, { [DEPLOYMENT]: text.replace("replicas: 2", "replicas: 3") }, "Scale to 3");
      await pushWorkRepo(dir, url, { token: "hub-token" });
      expect(await resolver.refresh()).toMatchObject({ revision: scaled, published: 2 });

      await server.close();
      const down = await resolver.refresh();
      expect(down).toMatchObject({ revision: scaled, published: 0, failed: true });
      expect(down.errors?.[0]?.code).toBe(ErrorCode.RepoUnavailable);
      expect((await publisher.readPointer("prod-1"))?.revision).toBe(scaled);
    } finally {
      await server.close();
    }
  });

  it("redoes a revision whose sink failed: pointers already in KV are re-sent to the sink, not re-published", async () => {
    const publisher = new BundlePublisher({ nc, names });
    const sink = new RecordingSink();
    let failOnce = true;
    sink.onPublished = async (p) => {
      if (failOnce) {
        failOnce = false;
        throw new Error("database unavailable");
      }
      sink.published.push(p);
    };
    const resolver = createResolver({ repo: openEnvRepo({ path: dir }), publisher, signingKey: key, sink, nextGeneration });
    const failed = await resolver.refresh();
    expect(failed).toMatchObject({ published: 0, failed: true, errors: [{ code: ErrorCode.Internal, message: "database unavailable" }] });
    expect(sink.succeeded).toEqual([]);
    // Clusters publish concurrently: the failing sink call came after at least its own pointer
    // reached KV; how many others did depends on timing, so count them.
    const before = await pointers(publisher);
    const alreadyInKv = [before.dev, before.prod].filter(Boolean).length;
    expect(alreadyInKv).toBeGreaterThanOrEqual(1);

    const retried = await resolver.refresh();
    expect(retried).toMatchObject({ revision: failed.revision, published: 2 - alreadyInKv, failed: false });
    const kv = await pointers(publisher);
    // A pointer the sink took during the failed run is sent again (sinks take repeats); every
    // cluster reached the sink with generation 1, the same pointer that sits in KV.
    expect([...new Set(sink.published.map((p) => p.cluster))].sort()).toEqual(["dev-1", "prod-1"]);
    expect(new Set(sink.published.map((p) => p.generation))).toEqual(new Set([1]));
    expect(sink.published.find((p) => p.cluster === "dev-1")).toEqual(kv.dev);
    expect(sink.published.find((p) => p.cluster === "prod-1")).toEqual(kv.prod);
    expect(sink.succeeded).toEqual([failed.revision]);
  });

  it("retries a transient publish failure with backoff long before the next poll, and succeeds", async () => {
    const publisher = new BundlePublisher({ nc, names });
    const sink = new RecordingSink();
    // The first two resolves fail in the sink (NATS or Postgres away); the loop must try again by itself.
    let failures = 2;
    sink.onPublished = async (p) => {
      if (failures > 0) {
        failures--;
        throw new Error("jetstream is not enabled");
      }
      sink.published.push(p);
    };
    const resolver = createResolver({ repo: openEnvRepo({ path: dir }), publisher, signingKey: key, sink, nextGeneration, pollIntervalMs: 3_600_000, retryBaseMs: 20 });
    try {
      const first = await resolver.refresh();
      expect(first).toMatchObject({ failed: true, retryable: true });
      resolver.start();
      await waitFor(() => sink.succeeded.length === 1, { what: "the loop retrying the failed publish", timeoutMs: 10_000, intervalMs: 10 });
      expect(sink.published.map((p) => p.cluster).sort()).toEqual(["dev-1", "prod-1"]);
    } finally {
      await resolver.stop();
    }
  });

  it("does not retry a revision that fails to render (the same commit renders the same way)", async () => {
    const { resolver } = setup();
    await commitFiles(dir, { "flotilla.yaml": "apiVersion: flotilla.dev/v1alpha1\nclusters: [\n" }, "Break the fleet file");
    const broken = await resolver.refresh();
    expect(broken.failed).toBe(true);
    expect(broken.retryable).toBeUndefined();
  });
});

