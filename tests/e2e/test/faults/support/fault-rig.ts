// One fleet for a fault test: the real hub (startHub) on a Postgres and a NATS the test owns, the
// env repo behind a Git HTTP server, and one real agent (startAgent) on the shared control plane,
// applying an app of labelled ConfigMaps into a fresh namespace. Around it, what the campaign
// measures, each with means independent of the code under test:
// - reports: a probe reporter (the agent's NatsReporter, with its spool) sends drift reports named
//   probe-<n>; lost = sent − distinct rows in drift_events, duplicated = rows − distinct;
// - writes to the cluster: an own watch counts every write of the managed objects; spurious =
//   writes − the writes the test's desired changes explain;
// - convergence: read from Postgres (cluster_status against the newest desired pointer).
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import type { KubeConfig } from "@kubernetes/client-node";
import pg from "pg";
import { startAgent, NatsReporter, connectAgentNats, type Agent } from "@flotilla/cluster-agent";
import { startHub, type Hub } from "@flotilla/hub";
import { commitFiles, createWorkRepo, pushWorkRepo, startGitHttpServer, type GitHttpServer } from "@flotilla/envrepo/testing";
import { waitFor } from "@flotilla/testkit";
import { generateSigningKey, wireNames } from "@flotilla/wire";
import { countWrites, type WriteCounter } from "./write-counter.js";
import { tcpGate, type TcpGate } from "./tcp-gate.js";

export interface FaultRigOptions {
  /** Client URL of the NATS the hub and the agent use (one member of a cluster is enough: the
   * clients learn the others from the server). */
  natsUrl: string;
  databaseUrl: string;
  kubeConfig: KubeConfig;
  namespace: string;
  /** JetStream replicas of the hub's streams (3 on a 3-node cluster). */
  natsReplicas?: number;
  /** ConfigMaps in the app (default 5). */
  objects?: number;
}

export interface FaultRig {
  hub: Hub;
  agent: Agent;
  git: GitHttpServer;
  /** The hub reaches the Git server only through this gate (down() = Git server down). */
  gitGate: TcpGate;
  writes: WriteCounter;
  /** Writes the desired changes so far explain (creations and changed objects). */
  expectedWrites: number;
  /** Commits `value` into every ConfigMap, pushes, asks the hub to refresh (ignored if the hub cannot
   * fetch); returns the revision. Counts the explained writes. */
  change(value: string): Promise<string>;
  /** Queues `count` probe drift reports (never blocks, also while NATS or Postgres is away). */
  probe(count: number): void;
  /** Probe reports not yet acknowledged by JetStream. */
  probePending(): number;
  /** Waits for every probe report in Postgres and the cluster Synced on the newest pointer. */
  settled(what: string, timeoutMs?: number): Promise<void>;
  /** lost / duplicated / spurious as counted now. */
  figures(): Promise<{ sent: number; lost: number; duplicated: number; spurious: number }>;
  dispose(): Promise<void>;
}

const CLUSTER = "fault-1";
const LABEL = "flotilla-fault";

export async function startFaultRig(o: FaultRigOptions): Promise<FaultRig> {
  const count = o.objects ?? 5;
  const prefix = `tf${randomBytes(4).toString("hex")}`;
  const id = randomBytes(3).toString("hex");
  const cleanups: (() => Promise<unknown>)[] = [];
  const dispose = async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  };
  try {
    const work = await mkdtemp(join(tmpdir(), "flotilla-fault-repo-"));
    const stateDir = await mkdtemp(join(tmpdir(), "flotilla-fault-state-"));
    cleanups.push(() => rm(work, { recursive: true, force: true }), () => rm(stateDir, { recursive: true, force: true }));
    const git = await startGitHttpServer();
    cleanups.push(() => git.close());
    const remote = git.createBareRepo("env");
    const files = (value: string) =>
      Object.fromEntries(
        Array.from({ length: count }, (_, i) => [
          `apps/probe/cm-${i}.yaml`,
          `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-${i}\n  namespace: ${o.namespace}\n  labels:\n    ${LABEL}: "${id}"\ndata:\n  value: "${value}"\n`,
        ]),
      );
    let revision = await createWorkRepo(work, {
      "flotilla.yaml": `apiVersion: flotilla.dev/v1alpha1\nenvironments:\n  - name: dev\nclusters:\n  - name: ${CLUSTER}\n    environment: dev\napps:\n  - name: probe\n    path: apps/probe\n`,
      ...files("v0"),
    });
    await pushWorkRepo(work, remote);
    const gitGate = await tcpGate(Number(new URL(git.baseUrl).port));
    cleanups.push(() => gitGate.close());
    const gated = new URL(remote);
    gated.port = String(gitGate.port);

    const writes = await countWrites(o.kubeConfig, `/api/v1/namespaces/${o.namespace}/configmaps`, `${LABEL}=${id}`);
    cleanups.push(async () => writes.stop());

    const signingKey = generateSigningKey();
    const hub = await startHub({
      repo: { url: gated.toString() },
      databaseUrl: o.databaseUrl,
      natsUrl: o.natsUrl,
      natsPrefix: prefix,
      ...(o.natsReplicas ? { natsReplicas: o.natsReplicas } : {}),
      signingKey,
      auth: { insecureNoAuth: true },
      port: 0,
      pollIntervalMs: 3_600_000, // the test drives the hub with refresh()
      promotionWriter: false,
      logger: false,
    });
    cleanups.push(() => hub.stop());
    const agent = await startAgent({
      cluster: CLUSTER,
      natsUrl: o.natsUrl,
      natsPrefix: prefix,
      hubPublicKey: signingKey.publicKey,
      kubeconfig: o.kubeConfig,
      stateDir: join(stateDir, "agent"),
      heartbeatIntervalMs: 2_000,
      tuning: { statusDebounceMs: 50 },
    });
    cleanups.push(() => agent.stop());
    const names = wireNames(prefix);
    const reporter = new NatsReporter({
      connection: () => connectAgentNats({ servers: o.natsUrl, name: "fault-probe" }),
      names,
      cluster: CLUSTER,
      agent: `${CLUSTER}/probe/1`,
      spoolDir: join(stateDir, "probe"),
    });
    cleanups.push(() => reporter.stop());
    const pool = new pg.Pool({ connectionString: o.databaseUrl, max: 2 });
    pool.on("error", () => undefined); // a Postgres outage ends idle clients; queries retry below
    cleanups.push(() => pool.end());
    const query = async <T extends pg.QueryResultRow>(text: string): Promise<T[]> => (await pool.query<T>(text)).rows;

    let sent = 0;
    const rig: FaultRig = {
      hub,
      agent,
      git,
      gitGate,
      writes,
      expectedWrites: count,
      async change(value) {
        revision = await commitFiles(work, files(value), `value ${value}`);
        await pushWorkRepo(work, remote);
        rig.expectedWrites += count;
        await hub.resolver.refresh().catch(() => undefined);
        return revision;
      },
      probe(n) {
        for (let i = 0; i < n; i++) {
          const k = sent++;
          reporter.drift({
            generation: 1,
            revision: "0".repeat(40),
            app: "probe",
            object: { group: "", kind: "ConfigMap", namespace: o.namespace, name: `probe-${k}` },
            paths: [{ path: "/data/value", desired: "v", live: `x${k}` }],
            actor: "fault-probe",
            policy: "warn",
            action: "left",
          });
        }
      },
      probePending: () => reporter.pending(),
      async settled(what, timeoutMs = 90_000) {
        await waitFor(
          async () => {
            const [p] = await query<{ rows: string; distinct: string }>(`select count(*) as rows, count(distinct name) as distinct from drift_events where actor = 'fault-probe'`).catch(() => [undefined]);
            // Synced on the newest pointer, and that pointer names the newest commit.
            const [s] = await query<{ ok: boolean }>(
              `select s.sync_state = 'Synced' and s.generation = d.generation and d.revision = '${revision}' as ok
                 from cluster_status s join desired_pointers d on d.cluster = s.cluster
                where s.cluster = '${CLUSTER}' order by d.generation desc limit 1`,
            ).catch(() => [undefined]);
            const live = [...Array(count).keys()].every((i) => writes.get(`cm-${i}`) !== undefined);
            if (p && Number(p.distinct) === sent && s?.ok && live) return true;
            throw new Error(`probe rows ${p?.distinct ?? "?"}/${sent}, cluster settled ${s?.ok ?? "?"}, objects seen ${live}`);
          },
          { timeoutMs, what },
        );
      },
      async figures() {
        const [p] = await query<{ rows: string; distinct: string }>(`select count(*) as rows, count(distinct name) as distinct from drift_events where actor = 'fault-probe'`);
        return { sent, lost: sent - Number(p!.distinct), duplicated: Number(p!.rows) - Number(p!.distinct), spurious: writes.total() - rig.expectedWrites };
      },
      dispose,
    };
    return rig;
  } catch (err) {
    await dispose();
    throw err;
  }
}
