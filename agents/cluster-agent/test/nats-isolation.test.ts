// Per-agent NATS isolation on a private nats-server 2.9 running the configuration the hub
// generates: each agent gets its own desired state and reports through, and nothing of another
// cluster's keys, watches, report subjects or bundles.
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BUNDLE_API_VERSION, type Bundle, type SignedPointer } from "@flotilla/model";
import { BundlePublisher } from "@flotilla/hub";
import { freePort, startConfiguredNats, type NatsServerProcess } from "@flotilla/testkit";
import { bundleStoreOf, generateSigningKey, reportSubject, wireNames, type SigningKey, type WireNames } from "@flotilla/wire";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm, type KV } from "@nats-io/kv";
import { Objm } from "@nats-io/obj";
import { connect, errors, nanos, type NatsConnection } from "@nats-io/transport-node";
// The hub package does not export its NATS config generation yet; read it from source.
import { reloadNatsServer, writeFleetNatsFiles, type FleetNatsFiles } from "../../../services/hub/src/nats-auth-files.js";
import { NatsDesiredStateSource, NatsReporter, connectAgentNats } from "../src/index.js";
import type { Refusal, VerifiedDesired } from "../src/ports.js";
import { readReports, waitFor } from "./nats-helpers.js";

const FAST = { initialMs: 50, maxMs: 500 };

function bundleFor(cluster: string, revision: string): Bundle {
  return {
    apiVersion: BUNDLE_API_VERSION,
    cluster,
    revision,
    apps: [
      {
        name: "web",
        policy: { drift: "enforce", prune: true, ignore: [] },
        objects: [{ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "web", namespace: "web" }, data: { cluster } }],
      },
    ],
  };
}

/** The hub's part: bundle by digest, then the signed pointer (BundlePublisher). */
async function publishDesired(publisher: BundlePublisher, key: SigningKey, cluster: string, generation: number): Promise<SignedPointer> {
  const revision = `${cluster}${generation}`.padEnd(40, "0");
  const digest = await publisher.publishBundle(bundleFor(cluster, revision));
  return publisher.publishPointer({ cluster, revision, bundleDigest: digest, generation, issuedAt: new Date().toISOString() }, key);
}

function agentConnect(url: string, files: FleetNatsFiles, cluster: string): Promise<NatsConnection> {
  const c = files.agents[cluster]!;
  return connect({ servers: url, user: c.user, pass: c.password, inboxPrefix: c.inboxPrefix, maxReconnectAttempts: 0 });
}

/** The first `error` status the connection reports (how a denied plain publish surfaces). */
function nextErrorStatus(nc: NatsConnection): Promise<Error> {
  return (async () => {
    for await (const s of nc.status()) {
      if (s.type === "error") return s.error;
    }
    throw new Error("connection closed without an error status");
  })();
}

async function openKv(nc: NatsConnection, names: WireNames): Promise<KV> {
  return new Kvm(jetstream(nc, { checkAPI: false })).open(names.desiredBucket, { allow_direct: true });
}

/** A PermissionViolationError, directly or as the cause of a RequestError (what requests reject with). */
function isPermissionViolation(err: unknown): boolean {
  for (let e = err; e; e = (e as { cause?: unknown }).cause) {
    if (e instanceof errors.PermissionViolationError) return true;
  }
  return false;
}

describe("per-agent NATS isolation (generated nats-server 2.9 config)", () => {
  let dir: string;
  let names: WireNames;
  let files: FleetNatsFiles;
  let server: NatsServerProcess;
  let hubNc: NatsConnection;
  let publisher: BundlePublisher;
  let key: SigningKey;
  const pointers: Record<string, SignedPointer> = {};
  const digests: Record<string, string> = {};
  const cleanups: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "flotilla-nats-iso-"));
    names = wireNames(`iso${Date.now().toString(36)}`);
    const port = await freePort();
    files = await writeFleetNatsFiles({ dir, names, clusters: ["a", "b"], listen: `127.0.0.1:${port}`, jetstreamDir: join(dir, "js") });
    server = await startConfiguredNats(files.configPath, port);
    hubNc = await connect({ servers: server.url, user: files.hub.user, pass: files.hub.password });
    publisher = new BundlePublisher({ nc: hubNc, names });
    await publisher.ensureResources();
    const jsm = await jetstreamManager(hubNc);
    await jsm.streams.add({ name: names.reportStream, subjects: [names.reportSubjects], duplicate_window: nanos(120_000) });
    key = generateSigningKey();
    for (const c of ["a", "b"]) {
      pointers[c] = await publishDesired(publisher, key, c, 1);
      digests[c] = pointers[c].bundleDigest;
    }
  });

  afterAll(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
    await hubNc?.close();
    await server?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /** A connection as cluster `c`'s agent, closed after the suite. */
  async function agentNc(c: string): Promise<NatsConnection> {
    const nc = await agentConnect(server.url, files, c);
    cleanups.push(() => nc.close());
    return nc;
  }

  it("agent A gets its own verified desired state and its reports land in the stream", async () => {
    // Connected the way startAgent() connects (--nats-user/--nats-password/--nats-inbox-prefix):
    // one lazily opened connection shared by both adapters.
    const creds = files.agents.a!;
    let shared: Promise<NatsConnection> | undefined;
    const connection = () => (shared ??= connectAgentNats({ servers: server.url, user: creds.user, pass: creds.password, inboxPrefix: creds.inboxPrefix }));
    cleanups.push(async () => (await shared)?.close());
    const errorsSeen: string[] = [];
    const cacheDir = await mkdtemp(join(dir, "cache-"));
    const source = new NatsDesiredStateSource({
      connection,
      names,
      cluster: "a",
      publicKey: key.publicKey,
      cacheDir,
      retry: FAST,
      onError: (err, during) => errorsSeen.push(`${during}: ${String(err)}`),
    });
    cleanups.push(() => source.stop());
    const desired: VerifiedDesired[] = [];
    const refused: Refusal[] = [];
    await source.start({ onDesired: (d) => desired.push(d), onRefused: (r) => refused.push(r) });
    await waitFor("A's desired state", () => desired.length === 1);
    expect(desired[0]?.pointer).toEqual(pointers.a);
    expect(desired[0]?.bundle.cluster).toBe("a");

    // The watch stays live under the permissions: a new generation arrives.
    const next = await publishDesired(publisher, key, "a", 2);
    await waitFor("A's generation 2", () => desired.length === 2);
    expect(desired[1]?.pointer).toEqual(next);
    expect(refused).toEqual([]);
    expect(errorsSeen).toEqual([]);

    const reporter = new NatsReporter({ connection, names, cluster: "a", agent: "a/test/1", retry: FAST, onError: (err, during) => errorsSeen.push(`${during}: ${String(err)}`) });
    cleanups.push(() => reporter.stop());
    reporter.heartbeat({ generation: 2, deadlineSeconds: 30 });
    await reporter.flush();
    const reports = await readReports(hubNc, names);
    const mine = reports.filter((r) => r.report.agent === "a/test/1");
    expect(mine).toHaveLength(1);
    expect(mine[0]?.subject).toBe(reportSubject(names, "a", "heartbeat"));
    expect(errorsSeen).toEqual([]);

    // A may read and watch both of its own keys (the break-glass control record included).
    const nc = await connection();
    const kv = await openKv(nc, names);
    expect((await kv.get("a.desired"))?.operation).toBe("PUT");
    expect(await kv.get("a.control")).toBeNull();
    const control = await kv.watch({ key: "a.control" });
    await (await openKv(hubNc, names)).put("a.control", "{}");
    for await (const e of control) {
      expect(e.key).toBe("a.control");
      break;
    }
  });

  it("agent A cannot read B's pointer: not by direct get, not by stream message get", async () => {
    const nc = await agentNc("a");
    const kv = await openKv(nc, names);
    await expect(kv.get("b.desired")).rejects.toSatisfy(isPermissionViolation);
    await expect(kv.get("b.control")).rejects.toSatisfy(isPermissionViolation);
    // The request-body forms accept any key, which is why they are never granted.
    const body = JSON.stringify({ last_by_subj: `$KV.${names.desiredBucket}.b.desired` });
    await expect(nc.request(`$JS.API.STREAM.MSG.GET.KV_${names.desiredBucket}`, body, { timeout: 2_000 })).rejects.toSatisfy(isPermissionViolation);
    await expect(nc.request(`$JS.API.DIRECT.GET.KV_${names.desiredBucket}`, body, { timeout: 2_000 })).rejects.toSatisfy(isPermissionViolation);
    // A wildcard in place of the cluster token is not a way round it.
    await expect(nc.request(`$JS.API.DIRECT.GET.KV_${names.desiredBucket}.$KV.${names.desiredBucket}.*.desired`, "", { timeout: 2_000 })).rejects.toSatisfy(
      isPermissionViolation,
    );
    // Nor is stream info (it would list subjects).
    await expect(nc.request(`$JS.API.STREAM.INFO.KV_${names.desiredBucket}`, "", { timeout: 2_000 })).rejects.toSatisfy(isPermissionViolation);
  });

  it("agent A cannot watch B's keys, nor every key", async () => {
    const nc = await agentNc("a");
    const kv = await openKv(nc, names);
    await expect(kv.watch({ key: "b.desired" })).rejects.toSatisfy(isPermissionViolation);
    await expect(kv.watch({ key: "b.>" })).rejects.toSatisfy(isPermissionViolation);
    await expect(kv.watch()).rejects.toSatisfy(isPermissionViolation);
  });

  it("agent A cannot widen a watch past its own keys with a body filter that differs from the subject", async () => {
    const nc = await agentNc("a");
    const b = names.desiredBucket;
    const stream = `KV_${b}`;
    const createOn = (subjectFilter: string, bodyFilter: string | undefined) =>
      nc
        .request(
          `$JS.API.CONSUMER.CREATE.${stream}.widen.${subjectFilter}`,
          JSON.stringify({
            stream_name: stream,
            config: {
              name: "widen",
              ack_policy: "none",
              deliver_policy: "last_per_subject",
              deliver_subject: "_INBOX_a.widen",
              ...(bodyFilter === undefined ? {} : { filter_subject: bodyFilter }),
            },
          }),
          { timeout: 2_000 },
        )
        .then((m) => m.json<{ error?: { description: string } }>());
    // The subject names A's keys, the body asks for more: JetStream refuses.
    for (const bodyFilter of [`$KV.${b}.b.desired`, `$KV.${b}.>`, undefined]) {
      const res = await createOn(`$KV.${b}.a.>`, bodyFilter);
      expect(res.error, `body filter ${bodyFilter ?? "(none)"}`).toBeDefined();
    }
    // A wider subject is not permitted at all.
    await expect(createOn(`$KV.${b}.>`, `$KV.${b}.>`)).rejects.toSatisfy(isPermissionViolation);
    await expect(createOn(`$KV.${b}.*.desired`, `$KV.${b}.*.desired`)).rejects.toSatisfy(isPermissionViolation);
    // And nothing was created.
    const jsm = await jetstreamManager(hubNc);
    const consumers = await jsm.consumers.list(stream).next();
    expect(consumers.map((c) => c.name)).not.toContain("widen");
  });

  it("agent A cannot publish B's reports nor listen to B's inbox or the report subjects", async () => {
    const ncA = await agentNc("a");
    const ncB = await agentNc("b");
    const reporterB = new NatsReporter({ connection: ncB, names, cluster: "b", agent: "b/test/1", retry: FAST });
    cleanups.push(() => reporterB.stop());
    reporterB.heartbeat({ generation: 1, deadlineSeconds: 30 });
    await reporterB.flush();

    // A plain publish does not throw: the violation arrives as an error status.
    const violation = nextErrorStatus(ncA);
    ncA.publish(reportSubject(names, "b", "heartbeat"), JSON.stringify({ kind: "heartbeat", cluster: "b", agent: "a/forged" }));
    const err = await violation;
    expect(err).toBeInstanceOf(errors.PermissionViolationError);
    expect((err as InstanceType<typeof errors.PermissionViolationError>).operation).toBe("publish");
    expect((err as InstanceType<typeof errors.PermissionViolationError>).subject).toBe(reportSubject(names, "b", "heartbeat"));
    // A JetStream publish (a request) is refused outright.
    await expect(jetstream(ncA).publish(reportSubject(names, "b", "status"), "{}", { timeout: 2_000 })).rejects.toSatisfy(isPermissionViolation);

    // Subscriptions outside A's inbox are refused.
    for (const subject of [`${agentInboxPrefixOf(files, "b")}.>`, names.reportSubjects, ">", "_INBOX.>"]) {
      const sub = ncA.subscribe(subject);
      await expect(sub.closed, subject).resolves.toSatisfy(isPermissionViolation);
    }

    // Only B's own report is on B's subjects.
    await ncA.flush();
    const onB = (await readReports(hubNc, names)).filter((r) => r.subject.startsWith(`${names.prefix}.report.b.`));
    expect(onB.map((r) => r.report.agent)).toEqual(["b/test/1"]);
  });

  it("a consumer A points at B's report subject delivers nothing there (nobody may subscribe to report subjects)", async () => {
    const nc = await agentNc("a");
    const b = names.desiredBucket;
    const create = (name: string, deliverSubject: string) =>
      nc
        .request(
          `$JS.API.CONSUMER.CREATE.KV_${b}.${name}.$KV.${b}.a.>`,
          JSON.stringify({ stream_name: `KV_${b}`, config: { name, ack_policy: "none", deliver_subject: deliverSubject, filter_subject: `$KV.${b}.a.>` } }),
          { timeout: 2_000 },
        )
        .then((m) => m.json<{ error?: unknown }>());
    // The server accepts any deliver subject (it is not checked against A's permissions) ...
    expect((await create("into-b", reportSubject(names, "b", "drift"))).error).toBeUndefined();
    // ... and delivers where there is interest: a twin consumer into A's own inbox gets A's entry.
    const own = nc.subscribe("_INBOX_a.twin", { max: 1 });
    expect((await create("twin", "_INBOX_a.twin")).error).toBeUndefined();
    for await (const m of own) expect(m.subject).toBe(`$KV.${b}.a.desired`);
    const jsm = await jetstreamManager(hubNc);
    expect((await jsm.consumers.info(`KV_${b}`, "into-b")).delivered.stream_seq).toBe(0);
    const onB = (await readReports(hubNc, names)).filter((r) => r.subject.startsWith(`${names.prefix}.report.b.`));
    expect(onB.every((r) => r.report.cluster === "b" && r.report.agent.startsWith("b/"))).toBe(true);
  });

  it("agent A reads its own bundles and no other cluster's: not by object get, chunk subscription, consumer, stream or direct get", async () => {
    const nc = await agentNc("a");
    const js = jetstream(nc, { checkAPI: false });
    const storeA = bundleStoreOf(names, "a");
    const storeB = bundleStoreOf(names, "b");
    const decode = (bytes: Uint8Array | null) => (bytes ? (JSON.parse(new TextDecoder().decode(bytes)) as Bundle) : null);

    // Its own: by name, and every chunk of its own store holds only its own bundles.
    const own = await new Objm(js).open(storeA, false);
    expect(decode(await own.getBlob(digests.a!))?.cluster).toBe("a");
    expect(await own.getBlob(digests.b!)).toBeNull(); // B's digest is not in A's store
    const everyOwn = await nc
      .request(
        `$JS.API.CONSUMER.CREATE.OBJ_${storeA}.every-own.$O.${storeA}.C.>`,
        JSON.stringify({ stream_name: `OBJ_${storeA}`, config: { name: "every-own", ack_policy: "none", deliver_subject: "_INBOX_a.every-own", filter_subject: `$O.${storeA}.C.>` } }),
        { timeout: 2_000 },
      )
      .then((m) => m.json<{ error?: unknown; num_pending?: number }>());
    expect(everyOwn.error).toBeUndefined();

    // 1. Object get of B's bundle from B's store: the metadata lookup is refused.
    const other = await new Objm(js).open(storeB, false);
    await expect(other.getBlob(digests.b!)).rejects.toSatisfy(isPermissionViolation);
    await expect(other.info(digests.b!)).rejects.toSatisfy(isPermissionViolation);

    // 2. Subscribing to the chunk (or metadata) subjects directly: refused.
    for (const subject of [`$O.${storeB}.C.>`, `$O.${storeB}.M.>`, "$O.>", `$O.*.C.*`]) {
      const sub = nc.subscribe(subject);
      await expect(sub.closed, subject).resolves.toSatisfy(isPermissionViolation);
    }

    // 3. A consumer on B's OBJ stream, in every form of the create API, or on A's own stream
    //    with a filter over B's subjects: refused.
    const consumer = (name: string) => ({ name, ack_policy: "none", deliver_subject: `_INBOX_a.${name}`, filter_subject: `$O.${storeB}.C.>` });
    const creates: [string, unknown][] = [
      [`$JS.API.CONSUMER.CREATE.OBJ_${storeB}.steal.$O.${storeB}.C.>`, { stream_name: `OBJ_${storeB}`, config: consumer("steal") }],
      [`$JS.API.CONSUMER.CREATE.OBJ_${storeB}.steal.$O.${storeB}.C.*`, { stream_name: `OBJ_${storeB}`, config: consumer("steal") }],
      [`$JS.API.CONSUMER.CREATE.OBJ_${storeB}`, { stream_name: `OBJ_${storeB}`, config: consumer("steal") }],
      [`$JS.API.CONSUMER.DURABLE.CREATE.OBJ_${storeB}.steal`, { stream_name: `OBJ_${storeB}`, config: { ...consumer("steal"), durable_name: "steal" } }],
      [`$JS.API.CONSUMER.CREATE.OBJ_${storeA}.steal.$O.${storeB}.C.>`, { stream_name: `OBJ_${storeB}`, config: consumer("steal") }],
    ];
    for (const [subject, body] of creates) {
      await expect(nc.request(subject, JSON.stringify(body), { timeout: 2_000 }), subject).rejects.toSatisfy(isPermissionViolation);
    }
    // The granted subject with B's stream in the body: JetStream refuses the mismatch.
    const mismatch = await nc
      .request(`$JS.API.CONSUMER.CREATE.OBJ_${storeA}.steal.$O.${storeA}.C.x`, JSON.stringify({ stream_name: `OBJ_${storeB}`, config: { ...consumer("steal"), filter_subject: `$O.${storeA}.C.x` } }), {
        timeout: 2_000,
      })
      .then((m) => m.json<{ error?: unknown }>());
    expect(mismatch.error).toBeDefined();

    // 4. Stream message get and direct get on B's stream: refused; on A's own stream a B subject
    //    finds nothing (it is not a subject of A's stream).
    const metaB = `$O.${storeB}.M.>`;
    for (const subject of [`$JS.API.STREAM.MSG.GET.OBJ_${storeB}`, `$JS.API.DIRECT.GET.OBJ_${storeB}`, `$JS.API.DIRECT.GET.OBJ_${storeB}.${metaB}`]) {
      await expect(nc.request(subject, JSON.stringify({ last_by_subj: metaB }), { timeout: 2_000 }), subject).rejects.toSatisfy(isPermissionViolation);
    }
    await expect(nc.request(`$JS.API.STREAM.MSG.GET.OBJ_${storeB}`, JSON.stringify({ seq: 1 }), { timeout: 2_000 })).rejects.toSatisfy(isPermissionViolation);
    for (const body of [{ last_by_subj: `$O.${storeB}.M.${digests.b!.replace(":", "_")}` }, { seq: 1 }, { seq: 2 }]) {
      const res = await nc.request(`$JS.API.STREAM.MSG.GET.OBJ_${storeA}`, JSON.stringify(body), { timeout: 2_000 }).then((m) => m.json<{ message?: { subject: string } }>());
      if (res.message) expect(res.message.subject.startsWith(`$O.${storeA}.`)).toBe(true);
    }
    // Nor may A list or inspect streams to find other stores.
    for (const subject of ["$JS.API.STREAM.NAMES", "$JS.API.STREAM.LIST", `$JS.API.STREAM.INFO.OBJ_${storeB}`]) {
      await expect(nc.request(subject, "{}", { timeout: 2_000 }), subject).rejects.toSatisfy(isPermissionViolation);
    }

    // The hub saw no consumer of A's on B's stream.
    const jsm = await jetstreamManager(hubNc);
    expect(await jsm.consumers.list(`OBJ_${storeB}`).next()).toEqual([]);
  });
});

describe("adding and removing a cluster: regenerate the config and reload the server", () => {
  let dir: string;
  let server: NatsServerProcess | undefined;
  const closers: (() => Promise<unknown>)[] = [];

  afterAll(async () => {
    for (const c of closers.splice(0).reverse()) await c().catch(() => undefined);
    await server?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  /** Resolves with a connection once the server accepts the cluster's credentials. */
  const connectWhenAllowed = (url: string, files: FleetNatsFiles, cluster: string) =>
    waitFor(`the server to accept agent ${cluster}`, () => agentConnect(url, files, cluster).catch(() => undefined), 60_000);

  it("a cluster added to the fleet connects and gets its desired state after the reload; others keep their connections; a removed one is shut out", async () => {
    dir = await mkdtemp(join(tmpdir(), "flotilla-nats-reload-"));
    const names = wireNames(`rl${Date.now().toString(36)}`);
    const port = await freePort();
    const common = { dir, names, listen: `127.0.0.1:${port}`, jetstreamDir: join(dir, "js") };
    const before = await writeFleetNatsFiles({ ...common, clusters: ["a"] });
    server = await startConfiguredNats(before.configPath, port);
    const url = server.url;

    const hubNc = await connect({ servers: url, user: before.hub.user, pass: before.hub.password });
    closers.push(() => hubNc.close());
    const publisher = new BundlePublisher({ nc: hubNc, names });
    await publisher.ensureResources();
    const key = generateSigningKey();
    await publishDesired(publisher, key, "a", 1);
    const pointerC = await publishDesired(publisher, key, "c", 1);

    const ncA = await agentConnect(url, before, "a");
    closers.push(() => ncA.close());

    // Add c: a keeps its password, c gets a new user, which the server knows only after a reload.
    const added = await writeFleetNatsFiles({ ...common, clusters: ["a", "c"] });
    expect(added.added).toEqual(["c"]);
    expect(added.agents.a?.password).toBe(before.agents.a?.password);
    expect(added.hub.password).toBe(before.hub.password);
    await expect(agentConnect(url, added, "c")).rejects.toThrow(/Authorization/i);
    reloadNatsServer(server.pid);
    const ncC = await connectWhenAllowed(url, added, "c");
    closers.push(() => ncC.close());

    const desired: VerifiedDesired[] = [];
    const cacheDir = await mkdtemp(join(dir, "cache-"));
    const source = new NatsDesiredStateSource({ connection: ncC, names, cluster: "c", publicKey: key.publicKey, cacheDir, retry: FAST });
    closers.push(() => source.stop());
    await source.start({ onDesired: (d) => desired.push(d), onRefused: () => undefined });
    await waitFor("c's desired state", () => desired.length === 1);
    expect(desired[0]?.pointer).toEqual(pointerC);
    // c is isolated like every agent.
    await expect((await openKv(ncC, names)).get("a.desired")).rejects.toSatisfy(isPermissionViolation);

    // a's connection lived through the reload.
    expect(ncA.isClosed()).toBe(false);
    expect((await (await openKv(ncA, names)).get("a.desired"))?.operation).toBe("PUT");

    // Remove a: its env file goes, and after the reload it can no longer connect.
    const removed = await writeFleetNatsFiles({ ...common, clusters: ["c"] });
    expect(removed.removed).toEqual(["a"]);
    await expect(readFile(before.agents.a!.envPath, "utf8")).rejects.toThrow();
    reloadNatsServer(server.pid);
    await waitFor("the server to refuse agent a", () =>
      agentConnect(url, before, "a").then(
        (nc) => nc.close().then(() => false),
        () => true,
      ),
    );
    await waitFor("a's open connection to be closed", () => ncA.isClosed());
    expect(ncC.isClosed()).toBe(false);
  });
});

function agentInboxPrefixOf(files: FleetNatsFiles, cluster: string): string {
  return files.agents[cluster]!.inboxPrefix;
}
