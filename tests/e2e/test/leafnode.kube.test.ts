// A remote agent behind a NATS leaf node, end to end with real processes on loopback: the hub's
// nats-server runs what `flotilla nats-config --js-domain hub --leaf-url …` generates (plus
// deploy/nats/leafnodes), the remote cluster's leaf runs deploy/nats/leaf-remote's nats.conf and
// logs in as the cluster's agent user over TLS; the real hub (Postgres database of its own) and
// the real agent (startAgent, natsJsDomain "hub", connected only to the leaf) drive a real
// kube-apiserver. Proves: desired state in and reports out through the leaf; the agent user's
// grants hold across it (another cluster's pointer, bundles, reports and inbox stay out of
// reach); a cut link leaves the agent enforcing its last verified bundle, queueing its
// reports, which all arrive once after the link is back, as does a commit made meanwhile; and a
// crash of the hub's nats-server (restarted on its store) is survived the same way.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAgent, NatsReporter, connectAgentNats, type Agent } from "@flotilla/cluster-agent";
import { startHub, type Hub } from "@flotilla/hub";
import { commitFiles, createWorkRepo, pushWorkRepo, startGitHttpServer, type GitHttpServer } from "@flotilla/envrepo/testing";
import { createTestDatabase, kubeRequest, waitFor, type TestDatabase } from "@flotilla/testkit";
import { useSharedControlPlane } from "@flotilla/testkit/vitest";
import { bundleStoreOf, desiredKey, generateSigningKey, reportSubject, type SigningKey } from "@flotilla/wire";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { Objm } from "@nats-io/obj";
import { connect } from "@nats-io/transport-node";
import { readEnvFile, startLeafNats, type LeafNats } from "./support/leaf-nats.js";

const plane = useSharedControlPlane();
const EDGE = "edge-1"; // the remote cluster: its agent is behind the leaf
const OTHER = "edge-2"; // another cluster of the fleet, whose state edge-1 must not reach
const OBJECTS = [0, 1, 2];
const PROBES = 20;

describe("a remote agent behind a NATS leaf node", () => {
  let nats: LeafNats;
  let database: TestDatabase;
  let git: GitHttpServer;
  let hub: Hub;
  let agent: Agent;
  let probe: NatsReporter;
  let work: string;
  let stateDir: string;
  let namespace: string;
  let remote: string;
  let signingKey: SigningKey;
  const closers: (() => Promise<unknown>)[] = [];
  const agentLog: string[] = [];

  const manifests = (value: string): Record<string, string> =>
    Object.fromEntries(
      OBJECTS.map((i) => [
        `apps/probe/cm-${i}.yaml`,
        `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-${i}\n  namespace: ${namespace}\ndata:\n  value: "${value}"\n`,
      ]),
    );
  const liveValues = async (): Promise<(string | undefined)[]> =>
    Promise.all(
      OBJECTS.map(async (i) => {
        const r = await kubeRequest<{ data?: { value?: string } }>(plane.kubeConfig, { path: `/api/v1/namespaces/${namespace}/configmaps/cm-${i}` });
        return r.status === 200 ? r.body.data?.value : undefined;
      }),
    );
  /** The hub's record of EDGE: synced on the newest pointer, and that pointer names `revision`. */
  const syncedAt = async (revision: string) => {
    const db = hub.database.db;
    const pointer = await db.selectFrom("desired_pointers").select(["generation", "revision"]).where("cluster", "=", EDGE).orderBy("generation", "desc").executeTakeFirst();
    const status = await db.selectFrom("cluster_status").select(["sync_state", "generation"]).where("cluster", "=", EDGE).executeTakeFirst();
    if (pointer?.revision !== revision) throw new Error(`newest pointer of ${EDGE} at ${pointer?.revision?.slice(0, 8)}, want ${revision.slice(0, 8)}`);
    if (status?.sync_state !== "Synced" || Number(status.generation) !== Number(pointer.generation)) {
      throw new Error(`${EDGE} is ${status?.sync_state} at generation ${status?.generation}, newest pointer generation ${pointer.generation}`);
    }
    return { generation: Number(pointer.generation) };
  };
  const tail = () => `\n--- the agent's last log lines ---\n${agentLog.slice(-25).join("\n")}`;
  /** waitFor, with the agent's log in the failure message. */
  const until = <T>(what: string, probeFn: () => Promise<T | undefined | false>, timeoutMs = 60_000) =>
    waitFor(probeFn, { what, timeoutMs }).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}${tail()}`, { cause: err });
    });
  const probeRows = async () => {
    const rows = await hub.database.db.selectFrom("drift_events").select(["name"]).where("actor", "=", "leaf-probe").execute();
    return { rows: rows.length, distinct: new Set(rows.map((r) => r.name)).size };
  };
  let probesSent = 0;
  const sendProbes = (n: number) => {
    for (let i = 0; i < n; i++) {
      const k = probesSent++;
      probe.drift({
        generation: 1,
        revision: "0".repeat(40),
        app: "probe",
        object: { group: "", kind: "ConfigMap", namespace, name: `probe-${k}` },
        paths: [{ path: "/data/value", desired: "v", live: `x${k}` }],
        actor: "leaf-probe",
        policy: "warn",
        action: "left",
      });
    }
  };

  beforeAll(async () => {
    const prefix = `lf${Math.random().toString(16).slice(2, 8)}`;
    nats = await startLeafNats({ clusters: [EDGE, OTHER], leafCluster: EDGE, prefix });
    closers.push(() => nats.dispose());
    await until("the leaf node linked to the hub's NATS", async () => (await nats.leafLinks()) === 1, 30_000);

    database = await createTestDatabase("leafnode");
    closers.push(() => database.drop());
    namespace = await plane.freshNamespace("leafnode");
    work = await mkdtemp(join(tmpdir(), "flotilla-leafnode-repo-"));
    stateDir = await mkdtemp(join(tmpdir(), "flotilla-leafnode-state-"));
    closers.push(() => rm(work, { recursive: true, force: true }), () => rm(stateDir, { recursive: true, force: true }));
    git = await startGitHttpServer();
    closers.push(() => git.close());
    remote = git.createBareRepo("env");
    await createWorkRepo(work, {
      "flotilla.yaml": `apiVersion: flotilla.dev/v1alpha1\nenvironments:\n  - name: dev\nclusters:\n  - name: ${EDGE}\n    environment: dev\n  - name: ${OTHER}\n    environment: dev\napps:\n  - name: probe\n    path: apps/probe\n`,
      ...manifests("v0"),
    });
    await pushWorkRepo(work, remote);

    // Each side with its generated env file, as `set -a; . file` would give them.
    const hubEnv = await readEnvFile(nats.files.hub.envPath);
    const agentEnv = await readEnvFile(nats.files.agents[EDGE]!.envPath);
    expect(agentEnv.FLOTILLA_NATS_JS_DOMAIN).toBe("hub");
    signingKey = generateSigningKey();
    hub = await startHub({
      repo: { url: remote },
      databaseUrl: database.url,
      natsUrl: nats.hub.url,
      natsUser: hubEnv.NATS_USER!,
      natsPassword: hubEnv.NATS_PASSWORD!,
      natsPrefix: hubEnv.FLOTILLA_NATS_PREFIX!,
      signingKey,
      auth: { insecureNoAuth: true },
      port: 0,
      pollIntervalMs: 3_600_000, // the test drives the hub with refresh()
      promotionWriter: false,
      logger: false,
    });
    closers.push(() => hub.stop());
    const keep = (level: string) => (obj: object, msg: string) => {
      agentLog.push(`${new Date().toISOString()} ${level} ${msg} ${JSON.stringify(obj)}`);
      if (agentLog.length > 200) agentLog.shift();
    };
    const agentNats = {
      natsUrl: nats.leaf.url, // only the leaf: the hub's NATS is in another network
      natsUser: agentEnv.NATS_USER!,
      natsPassword: agentEnv.NATS_PASSWORD!,
      natsInboxPrefix: agentEnv.FLOTILLA_NATS_INBOX_PREFIX!,
      natsPrefix: agentEnv.FLOTILLA_NATS_PREFIX!,
      natsJsDomain: agentEnv.FLOTILLA_NATS_JS_DOMAIN!,
    };
    agent = await startAgent({
      ...agentNats,
      logger: { info: keep("info"), warn: keep("warn"), error: keep("error") },
      cluster: EDGE,
      hubPublicKey: signingKey.publicKey,
      kubeconfig: plane.kubeConfig,
      stateDir: join(stateDir, "agent"),
      heartbeatIntervalMs: 2_000,
      tuning: { statusDebounceMs: 50 },
    });
    closers.push(() => agent.stop());
    // A second reporter of the same cluster through the same leaf: reports the test can count.
    probe = new NatsReporter({
      connection: () => connectAgentNats({ servers: nats.leaf.url, name: "leaf-probe", inboxPrefix: agentNats.natsInboxPrefix }),
      names: nats.names,
      cluster: EDGE,
      agent: `${EDGE}/leaf-probe/1`,
      spoolDir: join(stateDir, "probe"),
      retry: { initialMs: 100, maxMs: 1_000 },
    });
    closers.push(() => probe.stop());
  });

  afterAll(async () => {
    for (const c of closers.splice(0).reverse()) await c().catch(() => undefined);
  });

  it("the agent gets its pointer and bundle through the leaf, applies them, and its status reaches Postgres", async () => {
    const revision = (await hub.database.db.selectFrom("desired_pointers").select("revision").where("cluster", "=", EDGE).executeTakeFirstOrThrow()).revision;
    await until("the app's ConfigMaps applied at v0", async () => (await liveValues()).every((v) => v === "v0"));
    await until("edge-1 Synced in Postgres", () => syncedAt(revision));
    const objects = await hub.database.db.selectFrom("object_status").select(["name", "action"]).where("cluster", "=", EDGE).execute();
    expect(objects.map((o) => o.name).sort()).toEqual(OBJECTS.map((i) => `cm-${i}`));
    // The agent holds the pointer the hub signed for it, verified.
    expect(agent.source.current()?.pointer.revision).toBe(revision);
    sendProbes(5);
    await until("5 probe reports through the leaf in Postgres", async () => (await probeRows()).distinct === 5);
  });

  it("the agent user's grants hold across the leaf: no other cluster's pointer, bundles, reports or inbox", async () => {
    // Anything in the remote cluster that reaches the leaf (it has no users of its own) gets at
    // most the agent's grants. Each refusal is paired with the same call for EDGE succeeding on
    // the same connection, so a refusal is the grant and not a broken link.
    const nc = await connect({ servers: nats.leaf.url, inboxPrefix: `_INBOX_${EDGE}`, maxReconnectAttempts: 0 });
    closers.push(() => nc.close());
    const hubNc = hub.nc;
    const names = nats.names;
    const pointers = await hub.database.db.selectFrom("desired_pointers").select(["cluster", "bundle_digest"]).orderBy("generation", "desc").execute();
    const digestOf = (c: string) => pointers.find((p) => p.cluster === c)!.bundle_digest;
    for (const js of [jetstream(nc, { checkAPI: false, domain: "hub" }), jetstream(nc, { checkAPI: false })]) {
      // Both forms: the domain the agent uses, and $JS.API, which the leaf maps to the domain.
      const kv = await new Kvm(js).open(names.desiredBucket, { allow_direct: true });
      expect((await kv.get(desiredKey(EDGE)))?.json<{ cluster: string }>().cluster).toBe(EDGE);
      await expect(kv.get(desiredKey(OTHER))).rejects.toThrow(/no responders/);
      await expect(kv.watch({ key: desiredKey(OTHER) })).rejects.toThrow();
      await expect(kv.watch()).rejects.toThrow();
      const own = await new Objm(js).open(bundleStoreOf(names, EDGE), false);
      expect((await own.getBlob(digestOf(EDGE)))?.length).toBeGreaterThan(0);
      const other = await new Objm(js).open(bundleStoreOf(names, OTHER), false);
      await expect(other.getBlob(digestOf(OTHER))).rejects.toThrow();
    }
    // The body-addressed reads (any key in the body) are not granted in either form.
    const body = JSON.stringify({ last_by_subj: `$KV.${names.desiredBucket}.${desiredKey(OTHER)}` });
    for (const api of ["$JS.hub.API", "$JS.API"]) {
      for (const s of [`STREAM.MSG.GET.KV_${names.desiredBucket}`, `DIRECT.GET.KV_${names.desiredBucket}`, `STREAM.INFO.KV_${names.desiredBucket}`]) {
        await expect(nc.request(`${api}.${s}`, body, { timeout: 2_000 }), `${api}.${s}`).rejects.toThrow(/no responders/);
      }
    }

    // Reports: a JetStream publish on OTHER's subject is refused; a plain one goes nowhere — the
    // stream holds nothing on OTHER's subjects after EDGE's own publish, sent after it, is stored.
    await expect(jetstream(nc).publish(reportSubject(names, OTHER, "status"), "{}", { timeout: 2_000 })).rejects.toThrow();
    nc.publish(reportSubject(names, OTHER, "heartbeat"), JSON.stringify({ kind: "heartbeat", cluster: OTHER, agent: `${OTHER}/forged` }));
    const ack = await jetstream(nc).publish(reportSubject(names, EDGE, "heartbeat"), JSON.stringify({ kind: "heartbeat", cluster: EDGE, agent: `${EDGE}/grant-check` }), { timeout: 5_000 });
    expect(ack.seq).toBeGreaterThan(0);
    const jsm = await jetstreamManager(hubNc);
    const info = await jsm.streams.info(names.reportStream, { subjects_filter: `${names.prefix}.report.>` });
    const subjects = Object.keys(info.state.subjects ?? {});
    expect(subjects.some((s) => s.startsWith(`${names.prefix}.report.${EDGE}.`))).toBe(true);
    expect(subjects.filter((s) => s.startsWith(`${names.prefix}.report.${OTHER}.`))).toEqual([]);

    // Deliveries: whatever the leaf subscribes to, the hub sends it nothing of OTHER's. It takes
    // no interest in OTHER's inbox or the report subjects at all; a bare `>` it takes, and
    // checks each message against the grants.
    const seen: string[] = [];
    const subs = [">", `_INBOX_${OTHER}.>`, `${names.prefix}.report.>`, "$KV.>", "$O.>"].map((subject) =>
      nc.subscribe(subject, { callback: (_e, m) => void seen.push(`${subject} ${m.subject}`) }),
    );
    await nc.flush();
    await until("the leaf's interest in > at the hub", async () => (await nats.hubLeafSubscriptions()).includes(">"), 10_000);
    const taken = await nats.hubLeafSubscriptions();
    expect(taken).not.toContain(`_INBOX_${OTHER}.>`);
    expect(taken).not.toContain(`${names.prefix}.report.>`);
    // OTHER's agent, at the hub, reports; the hub writes OTHER's pointer again (the same bytes).
    const otherNc = await connect({ servers: nats.hub.url, user: nats.files.agents[OTHER]!.user, pass: nats.files.agents[OTHER]!.password, inboxPrefix: `_INBOX_${OTHER}` });
    closers.push(() => otherNc.close());
    otherNc.publish(reportSubject(names, OTHER, "heartbeat"), JSON.stringify({ kind: "heartbeat", cluster: OTHER, agent: `${OTHER}/grant-check` }));
    await otherNc.flush();
    const hubKv = await new Kvm(hubNc).open(names.desiredBucket);
    const otherPointer = await hubKv.get(desiredKey(OTHER));
    await hubKv.put(desiredKey(OTHER), otherPointer!.value);
    // Then a reply through the same link, which arrives after anything the hub sent before it.
    const ownKv = await new Kvm(jetstream(nc, { checkAPI: false, domain: "hub" })).open(names.desiredBucket, { allow_direct: true });
    expect(await ownKv.get(desiredKey(EDGE))).not.toBeNull();
    await nc.flush();
    expect(seen.some((s) => s.startsWith(`> _INBOX_${EDGE}.`)), seen.join("; ")).toBe(true);
    expect(seen.filter((s) => s.includes(OTHER))).toEqual([]);
    for (const sub of subs) sub.unsubscribe();
  });

  it("a cut link: the agent keeps enforcing its last bundle and queues reports; after it, every report arrives once and a commit made meanwhile lands", async () => {
    const before = (await hub.database.db.selectFrom("desired_pointers").select("generation").where("cluster", "=", EDGE).orderBy("generation", "desc").executeTakeFirstOrThrow()).generation;
    const driftBefore = await hub.database.db.selectFrom("drift_events").select("id").where("name", "=", "cm-0").where("actor", "=", "leaf-intruder").execute();
    expect(driftBefore).toEqual([]);

    await nats.link.down();
    await until("the leaf node without its link", async () => (await nats.leafLinks()) === 0, 30_000);
    const t0 = performance.now();

    // The agent still enforces the bundle it verified: an out-of-band edit is reverted.
    const patch = await kubeRequest(plane.kubeConfig, {
      method: "PATCH",
      path: `/api/v1/namespaces/${namespace}/configmaps/cm-0?fieldManager=leaf-intruder`,
      contentType: "application/merge-patch+json",
      body: { data: { value: "intruded" } },
    });
    expect(patch.status).toBe(200);
    await until("the intrusion reverted while the link is down", async () => (await liveValues())[0] === "v0", 30_000);
    // Reports made while the link is down are queued, not lost.
    sendProbes(PROBES);
    await until("the agent's drift report queued", async () => agent.reporter.pending() > 0, 10_000);
    expect(probe.pending()).toBeGreaterThan(0);

    // An outage longer than two idle heartbeats of the watches (30 s each, set by the client
    // library): the pointer and the break-glass watch (ordered consumers) noticed the silence
    // and keep failing to re-create their consumers — each attempt subscribes a new deliver
    // subject `<inbox>.<nuid>.<serial>`. A shorter cut would let the old consumers resume.
    await until(
      "both of the agent's watches retrying their consumers",
      async () => {
        const subs = await nats.leafSubscriptions(`flotilla-agent-${EDGE}`);
        const serials = subs.map((s) => new RegExp(`^_INBOX_${EDGE}\\.[A-Za-z0-9]+\\.(\\d+)$`).exec(s)?.[1]);
        if (serials.filter((n) => Number(n) >= 3).length >= 2) return true;
        throw new Error(`the agent's subscriptions on the leaf: ${subs.join(", ")}`);
      },
      150_000,
    );

    // A commit while the link is down: the hub publishes the pointer, the agent cannot get it.
    const revision = await commitFiles(work, manifests("v1"), "value v1");
    await pushWorkRepo(work, remote);
    await hub.resolver.refresh();
    const after = await hub.database.db.selectFrom("desired_pointers").select("generation").where("cluster", "=", EDGE).orderBy("generation", "desc").executeTakeFirstOrThrow();
    expect(Number(after.generation)).toBeGreaterThan(Number(before));
    expect(agent.source.current()?.pointer.generation).toBe(Number(before));
    expect(await liveValues()).toEqual(OBJECTS.map(() => "v0"));

    await nats.link.up();
    await until("the leaf node linked again", async () => (await nats.leafLinks()) === 1, 30_000);
    const t1 = performance.now();
    await until(`all ${probesSent} probe reports in Postgres`, async () => (await probeRows()).distinct === probesSent, 60_000);
    await until("the revert recorded in Postgres", async () => {
      const rows = await hub.database.db.selectFrom("drift_events").select(["action"]).where("name", "=", "cm-0").where("actor", "=", "leaf-intruder").execute();
      return rows.length > 0 ? rows : undefined;
    });
    await until("the commit made during the cut applied", async () => (await liveValues()).every((v) => v === "v1"), 90_000);
    await until("edge-1 Synced on the new commit in Postgres", () => syncedAt(revision), 60_000);
    const recoveryMs = performance.now() - t1;

    // None lost, none doubled; the intrusion recorded once.
    expect(await probeRows()).toEqual({ rows: probesSent, distinct: probesSent });
    const reverts = await hub.database.db.selectFrom("drift_events").select(["action", "id"]).where("name", "=", "cm-0").where("actor", "=", "leaf-intruder").execute();
    expect(reverts.map((r) => r.action)).toEqual(["reverted"]);
    console.log(`leaf link cut for ${Math.round(t1 - t0)} ms; recovery after the link returned ${Math.round(recoveryMs)} ms`);
  }, 300_000);

  it("the hub's nats-server crashes and restarts on its store: the agent carries on from its bundle, and reports and a commit get through after", async () => {
    const sentBefore = probesSent;
    let downMs = 0;
    await nats.crashHub(async () => {
      const t0 = performance.now();
      await until("the leaf node without its link", async () => (await nats.leafLinks()) === 0, 30_000);
      const patch = await kubeRequest(plane.kubeConfig, {
        method: "PATCH",
        path: `/api/v1/namespaces/${namespace}/configmaps/cm-1?fieldManager=leaf-crash-intruder`,
        contentType: "application/merge-patch+json",
        body: { data: { value: "intruded" } },
      });
      expect(patch.status).toBe(200);
      await until("the intrusion reverted while the hub's NATS is down", async () => (await liveValues())[1] === "v1", 30_000);
      sendProbes(PROBES);
      expect(probe.pending()).toBeGreaterThan(0);
      downMs = performance.now() - t0;
    });
    await until("the leaf node linked to the restarted server", async () => (await nats.leafLinks()) === 1, 30_000);
    const t1 = performance.now();
    await until(`all ${probesSent} probe reports in Postgres`, async () => (await probeRows()).distinct === probesSent, 60_000);
    await until("the revert recorded in Postgres", async () => {
      const rows = await hub.database.db.selectFrom("drift_events").select("action").where("name", "=", "cm-1").where("actor", "=", "leaf-crash-intruder").execute();
      return rows.length > 0 ? rows : undefined;
    });
    // The hub's own connection came back too: a commit now reaches the agent through the leaf.
    const revision = await commitFiles(work, manifests("v2"), "value v2");
    await pushWorkRepo(work, remote);
    await until("the hub publishing again", () => hub.resolver.refresh().then(() => true), 30_000);
    await until("the commit after the restart applied", async () => (await liveValues()).every((v) => v === "v2"), 90_000);
    await until("edge-1 Synced on it in Postgres", () => syncedAt(revision), 60_000);
    expect(probesSent - sentBefore).toBe(PROBES);
    expect(await probeRows()).toEqual({ rows: probesSent, distinct: probesSent });
    const reverts = await hub.database.db.selectFrom("drift_events").select("action").where("name", "=", "cm-1").where("actor", "=", "leaf-crash-intruder").execute();
    expect(reverts.map((r) => r.action)).toEqual(["reverted"]);
    console.log(`hub NATS down ${Math.round(downMs)} ms; recovery after its restart ${Math.round(performance.now() - t1)} ms`);
  }, 300_000);
});
