import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { BUNDLE_API_VERSION, ErrorCode, type Bundle } from "@flotilla/model";
import { bundleStoreOf, canonicalJson, generateSigningKey, sha256Digest, verifyPointer, wireNames, type WireNames } from "@flotilla/wire";
import { createTestNats, privateNatsCluster, waitFor, type TestNats } from "@flotilla/testkit";
import { BundlePublisher, DESIRED_HISTORY } from "../src/publish.js";

let nats: TestNats;
let nc: NatsConnection;
let names: WireNames;

beforeEach(async () => {
  nats = createTestNats("publish");
  nc = await connect({ servers: nats.url });
  names = wireNames(nats.prefix);
});
afterEach(async () => {
  await nc?.close();
  await nats?.cleanup();
});

const bundle = (replicas: number): Bundle => ({
  apiVersion: BUNDLE_API_VERSION,
  cluster: "dev-1",
  revision: "a".repeat(40),
  apps: [
    {
      name: "shop",
      policy: { drift: "enforce", prune: true, ignore: [] },
      objects: [{ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "api", namespace: "shop" }, spec: { replicas } }],
    },
  ],
});

describe("BundlePublisher", () => {
  it("creates the KV bucket with history and direct gets, idempotently", async () => {
    const publisher = new BundlePublisher({ nc, names });
    await publisher.ensureResources();
    await publisher.ensureResources();
    const jsm = await jetstreamManager(nc);
    const kvStream = await jsm.streams.info(`KV_${names.desiredBucket}`);
    expect(kvStream.config.max_msgs_per_subject).toBe(DESIRED_HISTORY);
    expect(kvStream.config.allow_direct).toBe(true);
    // Bundle stores are per cluster, created with a cluster's first bundle.
    await expect(jsm.streams.info(`OBJ_${bundleStoreOf(names, "dev-1")}`)).rejects.toThrow(/stream not found/);
    await publisher.publishBundle(bundle(2));
    expect((await jsm.streams.info(`OBJ_${bundleStoreOf(names, "dev-1")}`)).config.subjects).toEqual([`$O.${bundleStoreOf(names, "dev-1")}.C.>`, `$O.${bundleStoreOf(names, "dev-1")}.M.>`]);
  });

  it("stores a bundle under the sha256 of its canonical JSON, once", async () => {
    const publisher = new BundlePublisher({ nc, names });
    const digest = await publisher.publishBundle(bundle(2));
    expect(digest).toBe(sha256Digest(canonicalJson(bundle(2))));
    // Same content with keys in another order: same digest, not stored again.
    const reversed = (v: unknown): unknown =>
      Array.isArray(v) ? v.map(reversed) : v && typeof v === "object" ? Object.fromEntries(Object.entries(v).reverse().map(([k, x]) => [k, reversed(x)])) : v;
    const reordered = reversed(bundle(2)) as Bundle;
    expect(JSON.stringify(reordered)).not.toBe(JSON.stringify(bundle(2)));
    expect(await publisher.publishBundle(reordered)).toBe(digest);
    expect(await publisher.publishBundle(bundle(3))).not.toBe(digest);
    expect(publisher.stats).toEqual({ stored: 2, reused: 1 });
    expect(await publisher.readBundle({ cluster: "dev-1", bundleDigest: digest })).toEqual(bundle(2));
    expect(await publisher.readBundle({ cluster: "dev-1", bundleDigest: `sha256:${"0".repeat(64)}` })).toBeUndefined();
    // Each cluster reads from its own store: the digest is not in another cluster's.
    expect(await publisher.readBundle({ cluster: "dev-2", bundleDigest: digest })).toBeUndefined();
  });

  it("signs pointers, reads them back, and refuses a generation that does not increase", async () => {
    const publisher = new BundlePublisher({ nc, names });
    const key = generateSigningKey();
    expect(await publisher.readPointer("dev-1")).toBeUndefined();
    const digest = await publisher.publishBundle(bundle(2));
    const base = { cluster: "dev-1", revision: "a".repeat(40), bundleDigest: digest, issuedAt: new Date().toISOString() };
    const first = await publisher.publishPointer({ ...base, generation: 1 }, key);
    expect(verifyPointer(first, key.publicKey)).toBe(true);
    expect(await publisher.readPointer("dev-1")).toEqual(first);
    await publisher.publishPointer({ ...base, generation: 2 }, key);
    for (const generation of [2, 1]) {
      await expect(publisher.publishPointer({ ...base, generation }, key)).rejects.toMatchObject({ code: ErrorCode.StaleGeneration });
    }
    expect((await publisher.readPointer("dev-1"))?.generation).toBe(2);
    expect(await publisher.readPointer("prod-1")).toBeUndefined();
  });

  it("publishes over the head the caller read, without reading the key again, and refuses when the key moved since", async () => {
    const publisher = new BundlePublisher({ nc, names });
    const key = generateSigningKey();
    const base = { cluster: "dev-1", revision: "a".repeat(40), bundleDigest: `sha256:${"0".repeat(64)}`, issuedAt: new Date().toISOString() };
    expect(await publisher.readHead("dev-1")).toEqual({ pointer: undefined, revision: undefined });
    await publisher.publishPointer({ ...base, generation: 1 }, key, undefined, await publisher.readHead("dev-1"));
    const head = await publisher.readHead("dev-1");
    expect(head.pointer?.generation).toBe(1);
    // Another writer publishes after this head was read: the write over the stale head is refused.
    await publisher.publishPointer({ ...base, generation: 2 }, key);
    await expect(publisher.publishPointer({ ...base, generation: 3 }, key, undefined, head)).rejects.toMatchObject({ name: "PublishFencedError", by: "revision" });
    expect((await publisher.readPointer("dev-1"))?.generation).toBe(2);
    // A stale generation is judged against the head given, before anything is written.
    await expect(publisher.publishPointer({ ...base, generation: 1 }, key, undefined, await publisher.readHead("dev-1"))).rejects.toMatchObject({ code: ErrorCode.StaleGeneration });
    await publisher.publishPointer({ ...base, generation: 3 }, key, undefined, await publisher.readHead("dev-1"));
    expect((await publisher.readPointer("dev-1"))?.generation).toBe(3);
  });
});

describe("BundlePublisher on a 3-node JetStream", () => {
  it("creates the pointer bucket with `replicas` and each cluster's bundle store with `bundleReplicas` (default: `replicas`)", async () => {
    const cluster = await privateNatsCluster(3, `publish-${Date.now().toString(36)}`);
    const c = await connect({ servers: cluster.urls });
    try {
      // A fresh cluster elects its JetStream meta leader after it listens (jetstreamManager asks it).
      const jsm = await waitFor(() => jetstreamManager(c, { timeout: 2_000 }).catch(() => undefined), { what: "JetStream on the cluster", timeoutMs: 30_000 });
      const n = wireNames("r3");
      const lean = new BundlePublisher({ nc: c, names: n, replicas: 3, bundleReplicas: 1 });
      // Until all three members have joined, an R3 create is refused ("no suitable peers for placement").
      await waitFor(() => lean.ensureResources().then(() => true, () => undefined), { what: "an R3 bucket on the cluster", timeoutMs: 60_000 });
      const b = bundle(1);
      const digest = await lean.publishBundle(b);
      expect((await jsm.streams.info(`KV_${n.desiredBucket}`)).config.num_replicas).toBe(3);
      expect((await jsm.streams.info(`OBJ_${bundleStoreOf(n, "dev-1")}`)).config.num_replicas).toBe(1);
      expect(await lean.readBundle({ cluster: "dev-1", bundleDigest: digest })).toEqual(b);

      const replicated = new BundlePublisher({ nc: c, names: n, replicas: 3 });
      await replicated.publishBundle({ ...b, cluster: "dev-2" });
      expect((await jsm.streams.info(`OBJ_${bundleStoreOf(n, "dev-2")}`)).config.num_replicas).toBe(3);
    } finally {
      await c.close();
      await cluster.dispose();
    }
  }, 90_000);
});
