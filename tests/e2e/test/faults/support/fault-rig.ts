// One fleet for a fault test: the real hub (startHub) on a Postgres and a NATS the test owns, the
// env repo behind a Git HTTP server, and one real agent (startAgent) on the shared control plane,
// applying an app of labelled ConfigMaps into a fresh namespace. Around it, what the campaign
// measures, each with means independent of the code under test:
// - reports: a probe reporter (the agent's NatsReporter, with its spool) sends drift reports named
//   probe-<n>; lost = sent − distinct rows in drift_events, duplicated = rows − distinct;
// - writes to the cluster: an own watch counts every write of the managed objects; spurious =
//   writes − the writes the test's desired changes explain;
// - convergence: read from Postgres (cluster_status against the newest desired pointer).
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import type { KubeConfig } from "@kubernetes/client-node";
import pg from "pg";
import { startAgent, NatsReporter, connectAgentNats, type Agent } from "@flotilla/cluster-agent";
import { startHub, type Hub } from "@flotilla/hub";
import { commitFiles, createWorkRepo, pushWorkRepo, startGitHttpServer, type GitHttpServer } from "@flotilla/envrepo/testing";
import { waitFor } from "@flotilla/testkit";
import { generateSigningKey, publicKeyPem, wireNames } from "@flotilla/wire";
import { startFlotilla, type FlotillaProcess } from "./flotilla-process.js";
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
  /** Run the agent as a `flotilla agent` child process (which a test can SIGKILL and restart)
   * instead of in the test's process; it reads the plane's admin kubeconfig from this file. */
  agentProcess?: { kubeconfigPath: string };
}

export interface ChangeOptions {
  /** The app's ConfigMaps after the change, by index (default: the same ones): indices dropped
   * are removed from the repo (the agent prunes them), new ones are added. */
  objects?: number[];
}

export interface FaultRig {
  hub: Hub;
  /** The in-process agent (undefined with `agentProcess`). */
  agent: Agent | undefined;
  /** The agent's child process (with `agentProcess`); restartAgent() replaces it. */
  agentProcess: FlotillaProcess | undefined;
  /** Starts the agent process again on the same state dir (after a kill). */
  restartAgent(): Promise<void>;
  /** Names of the app's ConfigMaps at the newest commit. */
  objectNames(): string[];
  git: GitHttpServer;
  /** The hub reaches the Git server only through this gate (down() = Git server down). */
  gitGate: TcpGate;
  writes: WriteCounter;
  /** Writes the desired changes so far explain (creations and changed objects). */
  expectedWrites: number;
  /** Commits `value` into every ConfigMap, pushes, asks the hub to refresh (ignored if the hub cannot
   * fetch); returns the revision. Counts the explained writes. */
  change(value: string, opts?: ChangeOptions): Promise<string>;
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
  let indices = [...Array(o.objects ?? 5).keys()];
  let value = "v0";
  const removed = new Set<string>();
  const nameOf = (i: number) => `cm-${i}`;
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
    const files = (value: string, at: number[]): Record<string, string> =>
      Object.fromEntries(
        at.map((i) => [
          `apps/probe/${nameOf(i)}.yaml`,
          `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${nameOf(i)}\n  namespace: ${o.namespace}\n  labels:\n    ${LABEL}: "${id}"\ndata:\n  value: "${value}"\n`,
        ]),
      );
    let revision = await createWorkRepo(work, {
      "flotilla.yaml": `apiVersion: flotilla.dev/v1alpha1\nenvironments:\n  - name: dev\nclusters:\n  - name: ${CLUSTER}\n    environment: dev\napps:\n  - name: probe\n    path: apps/probe\n`,
      ...files(value, indices),
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
    // The agent's log, kept for the message of a timeout (which leg stalled, and why).
    const agentLog: string[] = [];
    const keep = (level: string) => (obj: object, msg: string) => {
      agentLog.push(`${new Date().toISOString()} ${level} ${msg} ${JSON.stringify(obj)}`);
      if (agentLog.length > 200) agentLog.shift();
    };
    let agent: Agent | undefined;
    let agentProcess: FlotillaProcess | undefined;
    const agentStateDir = join(stateDir, "agent");
    const publicKeyPath = join(stateDir, "hub.pub");
    const startAgentProcess = async () => {
      agentProcess = startFlotilla([
        "agent", "--cluster", CLUSTER, "--hub-public-key", publicKeyPath, "--kubeconfig", o.agentProcess!.kubeconfigPath,
        "--state-dir", agentStateDir, "--nats-url", o.natsUrl, "--nats-prefix", prefix, "--heartbeat-interval", "2",
      ]);
      await agentProcess.logLine("agent started");
    };
    if (o.agentProcess) {
      await writeFile(publicKeyPath, publicKeyPem(signingKey.publicKey));
      await startAgentProcess();
      cleanups.push(() => agentProcess!.stop());
    } else {
      const a = await startAgent({
        logger: { info: keep("info"), warn: keep("warn"), error: keep("error") },
        cluster: CLUSTER,
        natsUrl: o.natsUrl,
        natsPrefix: prefix,
        hubPublicKey: signingKey.publicKey,
        kubeconfig: o.kubeConfig,
        stateDir: agentStateDir,
        heartbeatIntervalMs: 2_000,
        tuning: { statusDebounceMs: 50 },
      });
      agent = a;
      cleanups.push(() => a.stop());
    }
    const agentLogTail = () =>
      agentProcess ? agentProcess.output().trimEnd().split("\n").slice(-25).join("\n") : agentLog.slice(-25).join("\n");
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
      get agent() {
        return agent;
      },
      get agentProcess() {
        return agentProcess;
      },
      async restartAgent() {
        if (!o.agentProcess) throw new Error("restartAgent() needs the agentProcess option");
        await agentProcess?.stop();
        await startAgentProcess();
      },
      objectNames: () => indices.map(nameOf),
      git,
      gitGate,
      writes,
      expectedWrites: indices.length,
      async change(next, opts = {}) {
        const at = opts.objects ?? indices;
        const dropped = indices.filter((i) => !at.includes(i));
        value = next;
        revision = await commitFiles(
          work,
          { ...files(value, at), ...Object.fromEntries(dropped.map((i) => [`apps/probe/${nameOf(i)}.yaml`, null])) },
          `value ${value}`,
        );
        await pushWorkRepo(work, remote);
        // One write per object changed or created, one per object pruned.
        rig.expectedWrites += at.length + dropped.length;
        for (const i of dropped) removed.add(nameOf(i));
        for (const i of at) removed.delete(nameOf(i));
        indices = at;
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
            const [s] = await query<{ ok: boolean; state: string; generation: string; desired: string; desired_revision: string }>(
              `select s.sync_state = 'Synced' and s.generation = d.generation and d.revision = '${revision}' as ok,
                      s.sync_state as state, s.generation, d.generation as desired, d.revision as desired_revision
                 from cluster_status s join desired_pointers d on d.cluster = s.cluster
                where s.cluster = '${CLUSTER}' order by d.generation desc limit 1`,
            ).catch(() => [undefined]);
            // Every object of the newest commit live with its value, every dropped one pruned.
            const live = indices.every((i) => writes.get(nameOf(i))?.data?.value === value) && [...removed].every((n) => writes.deleted(n));
            if (p && Number(p.distinct) === sent && s?.ok && live) return true;
            // What is behind, so a timeout says which leg (hub publish, agent apply, status ingest) stalled.
            const cluster = s
              ? `${s.state} at generation ${s.generation}, newest pointer generation ${s.desired} at ${s.desired_revision.slice(0, 8)} (want ${revision.slice(0, 8)})`
              : "?";
            const values = [...new Set(indices.map((i) => writes.get(nameOf(i))?.data?.value ?? "-"))].join(",");
            throw new Error(`probe rows ${p?.distinct ?? "?"}/${sent}, cluster ${cluster}, live values ${values}, objects seen ${live}`);
          },
          { timeoutMs, what },
        ).catch((err: unknown) => {
          throw new Error(`${(err as Error).message}\n--- the agent's last log lines ---\n${agentLogTail()}`, { cause: err });
        });
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
