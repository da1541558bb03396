import { mkdtemp, rm, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ErrorCode } from "@flotilla/model";
import { createTestNats, type TestNats } from "@flotilla/testkit";
import { generateSigningKey, wireNames, type SigningKey, type WireNames } from "@flotilla/wire";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { NatsDesiredStateSource, connectAgentNats, type NatsConnector } from "../src/index.js";
import type { Refusal, VerifiedDesired } from "../src/ports.js";
import { ensureWireResources, freePort, makeBundle, privateNats, publishBundle, putPointer, signedPointer, waitFor } from "./nats-helpers.js";

const CLUSTER = "edge-1";
const FAST = { initialMs: 50, maxMs: 500 };

/** Records what a source hands the reconciler. */
function recorder() {
  const desired: VerifiedDesired[] = [];
  const refused: Refusal[] = [];
  return { desired, refused, handlers: { onDesired: (d: VerifiedDesired) => desired.push(d), onRefused: (r: Refusal) => refused.push(r) } };
}

describe("NatsDesiredStateSource", () => {
  let tn: TestNats;
  let names: WireNames;
  let nc: NatsConnection;
  let hub: SigningKey;
  let cacheDir: string;
  const sources: NatsDesiredStateSource[] = [];

  const newSource = (connection: NatsConnector = nc, rewatchMs?: number) => {
    const s = new NatsDesiredStateSource({ connection, names, cluster: CLUSTER, publicKey: hub.publicKey, cacheDir, retry: FAST, ...(rewatchMs ? { rewatchMs } : {}) });
    sources.push(s);
    return s;
  };

  /** Stores a bundle and puts its signed pointer, like the hub. */
  async function publish(generation: number, key = hub, revision = `rev${generation}`.padEnd(40, "0")) {
    const b = makeBundle(CLUSTER, revision, generation);
    await publishBundle(nc, names, CLUSTER, b.digest, b.bytes);
    const pointer = signedPointer(key, CLUSTER, revision, b.digest, generation);
    await putPointer(nc, names, CLUSTER, pointer);
    return { ...b, pointer };
  }

  beforeEach(async () => {
    tn = createTestNats("desired");
    names = wireNames(tn.prefix);
    nc = await connect({ servers: tn.url });
    await ensureWireResources(nc, names);
    hub = generateSigningKey();
    cacheDir = await mkdtemp(join(tmpdir(), "flotilla-desired-"));
  });

  afterEach(async () => {
    for (const s of sources.splice(0)) await s.stop();
    await nc.close();
    await tn.cleanup();
    await rm(cacheDir, { recursive: true, force: true });
  });

  it("delivers a signed pointer with its stored bundle, verified, and caches it", async () => {
    const { pointer, bundle } = await publish(1);
    const rec = recorder();
    const source = newSource();
    await source.start(rec.handlers);
    await waitFor("desired state", () => rec.desired.length === 1);
    expect(rec.desired[0]).toEqual({ pointer, bundle });
    expect(source.current()).toEqual({ pointer, bundle });
    expect(rec.refused).toEqual([]);
    const cached = await readFile(join(cacheDir, `${CLUSTER}.desired`), "utf8");
    expect(cached.split("\n")[0]).toContain(pointer.signature);

    // A newer generation supersedes it.
    const next = await publish(2);
    await waitFor("generation 2", () => rec.desired.length === 2);
    expect(rec.desired[1]?.pointer).toEqual(next.pointer);
  });

  it("refuses a pointer signed with another key, an unsigned pointer and a pointer for another cluster", async () => {
    const rec = recorder();
    await newSource().start(rec.handlers);

    await publish(1, generateSigningKey());
    await waitFor("refusal of the foreign key", () => rec.refused.length === 1);
    expect(rec.refused[0]?.error.code).toBe(ErrorCode.SignatureInvalid);
    expect(rec.refused[0]?.pointer?.generation).toBe(1);

    const b = makeBundle(CLUSTER, "a".repeat(40));
    await publishBundle(nc, names, CLUSTER, b.digest, b.bytes);
    const { signature: _s, ...unsigned } = signedPointer(hub, CLUSTER, "a".repeat(40), b.digest, 2);
    await putPointer(nc, names, CLUSTER, unsigned);
    await waitFor("refusal of the unsigned pointer", () => rec.refused.length === 2);
    expect(rec.refused[1]?.error).toMatchObject({ code: ErrorCode.SignatureInvalid, message: expect.stringContaining("unsigned") });

    await putPointer(nc, names, CLUSTER, signedPointer(hub, "other", "a".repeat(40), b.digest, 3));
    await waitFor("refusal of another cluster's pointer", () => rec.refused.length === 3);
    expect(rec.refused[2]?.error).toMatchObject({ code: ErrorCode.SignatureInvalid, message: expect.stringContaining('"other"') });
    expect(rec.desired).toEqual([]);
  });

  it("reads a one-chunk bundle with one message get, and a bundle of several chunks through the store's consumer", async () => {
    // Every JetStream API request the agent's connection makes.
    const requests: string[] = [];
    const counted = new Proxy(nc, {
      get(target, prop) {
        const v = Reflect.get(target, prop, target) as unknown;
        if (typeof v !== "function") return v;
        return (...args: unknown[]) => {
          if (prop === "request") requests.push(String(args[0]));
          return (v as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const rec = recorder();
    const { pointer, bundle } = await publish(1);
    await newSource(counted).start(rec.handlers);
    await waitFor("desired state", () => rec.desired.length === 1);
    expect(rec.desired[0]).toEqual({ pointer, bundle });
    expect(requests.filter((s) => s.includes("CONSUMER.CREATE.OBJ_"))).toEqual([]);
    expect(requests.filter((s) => /\.GET\.OBJ_/.test(s)).length).toBe(2); // its info, its one chunk

    // 300 KB of data: three chunks of the store's 128 KiB.
    const big = makeBundle(CLUSTER, "rev2".padEnd(40, "0"), 2, "x".repeat(300_000));
    await publishBundle(nc, names, CLUSTER, big.digest, big.bytes);
    await putPointer(nc, names, CLUSTER, signedPointer(hub, CLUSTER, "rev2".padEnd(40, "0"), big.digest, 2));
    await waitFor("the bundle of several chunks", () => rec.desired.length === 2);
    expect(rec.desired[1]?.bundle).toEqual(big.bundle);
    expect(requests.filter((s) => s.includes("CONSUMER.CREATE.OBJ_")).length).toBe(1);
    expect(rec.refused).toEqual([]);
  });

  it("refuses a bundle whose bytes do not match the digest", async () => {
    const rec = recorder();
    await newSource().start(rec.handlers);
    const real = makeBundle(CLUSTER, "b".repeat(40), 1);
    const tampered = makeBundle(CLUSTER, "b".repeat(40), 99);
    await publishBundle(nc, names, CLUSTER, real.digest, tampered.bytes); // different bytes under the digest's name
    await putPointer(nc, names, CLUSTER, signedPointer(hub, CLUSTER, "b".repeat(40), real.digest, 1));
    await waitFor("digest refusal", () => rec.refused.length === 1);
    expect(rec.refused[0]?.error.code).toBe(ErrorCode.DigestMismatch);
    expect(rec.refused[0]?.error.message).toContain(tampered.digest);
    expect(rec.desired).toEqual([]);

    // The hub stores the right bytes again: the agent, still retrying, takes them (refused once only).
    await publishBundle(nc, names, CLUSTER, real.digest, real.bytes);
    await waitFor("desired state after the repair", () => rec.desired.length === 1);
    expect(rec.desired[0]?.bundle).toEqual(real.bundle);
    expect(rec.refused).toHaveLength(1);
  });

  it("refuses a bundle that matches its digest but names another cluster or revision", async () => {
    const rec = recorder();
    await newSource().start(rec.handlers);
    const foreign = makeBundle("other", "d".repeat(40));
    await publishBundle(nc, names, CLUSTER, foreign.digest, foreign.bytes);
    await putPointer(nc, names, CLUSTER, signedPointer(hub, CLUSTER, "d".repeat(40), foreign.digest, 1));
    await waitFor("refusal of the foreign bundle", () => rec.refused.length === 1);
    expect(rec.refused[0]?.error).toMatchObject({ code: ErrorCode.DigestMismatch, message: expect.stringContaining('"other"') });

    // The refused pointer does not block the next generation.
    await publish(2);
    await waitFor("generation 2", () => rec.desired.length === 1);
    expect(rec.refused).toHaveLength(1);
  });

  it("refuses a replayed older generation and keeps the newer one", async () => {
    const rec = recorder();
    const source = newSource();
    await source.start(rec.handlers);
    const old = await publish(1);
    await waitFor("generation 1", () => rec.desired.length === 1);
    await publish(2);
    await waitFor("generation 2", () => rec.desired.length === 2);

    await putPointer(nc, names, CLUSTER, old.pointer); // validly signed, but old
    await waitFor("stale refusal", () => rec.refused.length === 1);
    expect(rec.refused[0]).toMatchObject({ error: { code: ErrorCode.StaleGeneration }, pointer: { generation: 1 } });
    expect(source.current()?.pointer.generation).toBe(2);
    expect(rec.desired).toHaveLength(2);
  });

  it("reports a bundle that is not stored yet once, and applies it when it arrives", async () => {
    const rec = recorder();
    await newSource().start(rec.handlers);
    const b = makeBundle(CLUSTER, "c".repeat(40));
    const pointer = signedPointer(hub, CLUSTER, "c".repeat(40), b.digest, 1);
    await putPointer(nc, names, CLUSTER, pointer);
    await waitFor("unavailable refusal", () => rec.refused.length === 1);
    expect(rec.refused[0]?.error.code).toBe(ErrorCode.BundleUnavailable);
    await publishBundle(nc, names, CLUSTER, b.digest, b.bytes);
    await waitFor("desired state after the bundle arrived", () => rec.desired.length === 1);
    expect(rec.desired[0]?.pointer).toEqual(pointer);
    expect(rec.refused).toHaveLength(1);
  });

  it("re-watches periodically, so a bucket re-created under a live connection is seen", async () => {
    const rec = recorder();
    await newSource(nc, 300).start(rec.handlers);
    await publish(1);
    await waitFor("generation 1", () => rec.desired.length === 1);
    // The hub's bucket is lost and re-created (no reconnect happens): the old watch cannot see it.
    const jsm = await jetstreamManager(nc);
    await jsm.streams.delete(`KV_${names.desiredBucket}`);
    await ensureWireResources(nc, names);
    await publish(2);
    await waitFor("generation 2 in the re-created bucket", () => rec.desired.length === 2);
    expect(rec.desired[1]?.pointer.generation).toBe(2);
  });

  it("delivers the cached state on restart while NATS is unreachable, and ignores a corrupt cache", async () => {
    const first = recorder();
    const s1 = newSource();
    await s1.start(first.handlers);
    const { pointer, bundle } = await publish(3);
    await waitFor("generation 3", () => first.desired.length === 1);
    await s1.stop();

    // Nothing listens on this port: the source must still start and deliver from its cache.
    const deadPort = await freePort();
    const offline = newSource(() => connectAgentNats({ servers: `nats://127.0.0.1:${deadPort}`, reconnect: false }));
    const second = recorder();
    await offline.start(second.handlers);
    expect(second.desired).toEqual([{ pointer, bundle }]);
    expect(offline.current()?.pointer.generation).toBe(3);
    await offline.stop();

    // A cache whose bundle bytes were altered is refused on load and not delivered.
    const file = join(cacheDir, `${CLUSTER}.desired`);
    await writeFile(file, (await readFile(file, "utf8")).replace('"replicas":"3"', '"replicas":"9"'));
    const third = recorder();
    const again = newSource(() => connectAgentNats({ servers: `nats://127.0.0.1:${deadPort}`, reconnect: false }));
    await again.start(third.handlers);
    expect(third.desired).toEqual([]);
    expect(third.refused[0]?.error.code).toBe(ErrorCode.DigestMismatch);
    expect(again.current()).toBeUndefined();
  });
});

describe("NatsDesiredStateSource across a NATS restart", () => {
  // kept = the server restarts with its JetStream store (the watch's consumer may survive);
  // lost = it comes back empty and the hub re-creates everything: the old watch can never see the
  // new pointer (its consumer resumes at a stream sequence that no longer means anything), so
  // only a fresh watch delivers it.
  it("starts while NATS is down and picks up the pointer once NATS is up", async () => {
    const server = await privateNats();
    const cacheDir = await mkdtemp(join(tmpdir(), "flotilla-desired-"));
    const names = wireNames("late");
    const hub = generateSigningKey();
    const rec = recorder();
    const source = new NatsDesiredStateSource({
      connection: () => connectAgentNats({ servers: server.url, reconnectTimeWait: 100 }),
      names,
      cluster: CLUSTER,
      publicKey: hub.publicKey,
      cacheDir,
      retry: FAST,
    });
    let admin: NatsConnection | undefined;
    try {
      await source.start(rec.handlers); // resolves although nothing listens yet
      expect(source.current()).toBeUndefined();
      await server.start();
      admin = await connect({ servers: server.url });
      await ensureWireResources(admin, names);
      const b = makeBundle(CLUSTER, "9".repeat(40));
      await publishBundle(admin, names, CLUSTER, b.digest, b.bytes);
      await putPointer(admin, names, CLUSTER, signedPointer(hub, CLUSTER, "9".repeat(40), b.digest, 1));
      await waitFor("the pointer once NATS is up", () => rec.desired.length === 1);
      expect(rec.desired[0]?.bundle).toEqual(b.bundle);
    } finally {
      await source.stop();
      await admin?.close();
      await server.dispose();
      await rm(cacheDir, { recursive: true, force: true });
    }
  });

  for (const store of ["kept", "lost"] as const) {
    it(`resumes its watch when the server comes back with its store ${store}`, async () => {
      const server = await privateNats();
      const cacheDir = await mkdtemp(join(tmpdir(), "flotilla-desired-"));
      const names = wireNames("restart");
      const hub = generateSigningKey();
      const rec = recorder();
      let source: NatsDesiredStateSource | undefined;
      let admin: NatsConnection | undefined;
      try {
        await server.start();
        admin = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
        const hubNc = admin;
        await ensureWireResources(hubNc, names);
        const put = async (generation: number) => {
          const revision = `r${generation}`.padEnd(40, "0");
          const b = makeBundle(CLUSTER, revision, generation);
          await publishBundle(hubNc, names, CLUSTER, b.digest, b.bytes);
          await putPointer(hubNc, names, CLUSTER, signedPointer(hub, CLUSTER, revision, b.digest, generation));
        };
        source = new NatsDesiredStateSource({
          connection: () => connectAgentNats({ servers: server.url, reconnectTimeWait: 100 }),
          names,
          cluster: CLUSTER,
          publicKey: hub.publicKey,
          cacheDir,
          retry: FAST,
        });
        await source.start(rec.handlers);
        await put(1);
        await waitFor("generation 1", () => rec.desired.length === 1);

        await server.stop();
        if (store === "lost") await server.wipe();
        await server.start();
        // The hub comes back too: it re-creates its resources (idempotent) and publishes generation 2.
        await waitFor("the hub can write again", async () => {
          try {
            await ensureWireResources(hubNc, names);
            await put(2);
            return true;
          } catch {
            return false;
          }
        });
        await waitFor("generation 2 after the restart", () => rec.desired.some((d) => d.pointer.generation === 2), 30_000);
        expect(source.current()?.pointer.generation).toBe(2);
        expect(rec.refused.filter((r) => r.error.code !== ErrorCode.BundleUnavailable)).toEqual([]);
      } finally {
        await source?.stop();
        await admin?.close();
        await server.dispose();
        await rm(cacheDir, { recursive: true, force: true });
      }
    });
  }
});
