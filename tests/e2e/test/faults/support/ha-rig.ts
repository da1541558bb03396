
// Two real `flotilla hub` processes on one Postgres database and one NATS prefix (this rig's
// own), for the failover fault test and bench/ha.mts: the leader is killed with SIGKILL while it
// is publishing a commit's pointers, and the follower must take over and finish the job.
// The env repo has many clusters so a resolve's publish phase lasts long enough to be hit.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import pg from "pg";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { driftProbeReport } from "@flotilla/hub/testing";
import { commitFiles, createWorkRepo, pushWorkRepo, startGitHttpServer, type GitHttpServer } from "@flotilla/envrepo/testing";
import { createTestDatabase, createTestNats, waitFor, type TestDatabase, type TestNats } from "@flotilla/testkit";
import { decodeJson, desiredKey, encodeJson, generateSigningKey, parseSignedPointer, privateKeyPem, reportSubject, wireNames } from "@flotilla/wire";
import { startFlotilla, type FlotillaProcess } from "./flotilla-process.js";

export interface HubChild {
  name: string;
  process: FlotillaProcess;
  url: string;
}

export interface FailoverOutcome {
  /** The commit being published when the leader was killed. */
  revision: string;
  /** Pointers of that commit the leader published before the kill. */
  publishedBeforeKill: number;
  /** SIGKILL of the leader → the new leader's first published pointer (its log line's time). */
  takeoverMs: number;
  /** SIGKILL → every cluster's pointer names the commit. */
  completeMs: number;
  killed: HubChild;
  leader: HubChild;
}

export interface HaRig {
  clusters: string[];
  hubs: HubChild[];
  /** Which hub leads, by GET /readyz on each (exactly one must say leader). */
  roles(): Promise<{ leader: HubChild; follower: HubChild }>;
  /** Commits a change to every cluster's bundle and pushes it; returns the commit. */
  commit(): Promise<string>;
  /** Publishes drift reports (unique names from a counter) on JetStream, as agents do. */
  publishReports(n: number): Promise<void>;
  /** Drift reports stored in Postgres: distinct objects, and rows (a duplicate would be a second row). */
  storedReports(): Promise<{ distinct: number; rows: number }>;
  reportsSent(): number;
  /** Every version of the cluster's pointer the KV holds, oldest first. */
  pointerHistory(cluster: string): Promise<{ generation: number; revision: string }[]>;
  /** Kill the leader (SIGKILL) once it published `killAfter` pointers of a new commit. */
  failover(killAfter: number): Promise<FailoverOutcome>;
  /** Starts a killed hub again (it joins as follower). */
  restart(hub: HubChild): Promise<void>;
  close(): Promise<void>;
}

const CONFIGMAP = (v: number) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-0\n  namespace: default\ndata:\n  value: v${v}\n`;

function fleetYaml(clusters: string[]): string {
  return [
    "apiVersion: flotilla.dev/v1alpha1",
    "environments:",
    "  - name: dev",
    "clusters:",
    ...clusters.flatMap((c) => [`  - name: ${c}`, "    environment: dev"]),
    "apps:",
    "  - name: probe",
    "    path: apps/probe",
    "",
  ].join("\n");
}

export async function startHaRig(opts: { clusters: number; label?: string }): Promise<HaRig> {
  const label = opts.label ?? "ha";
  const clusters = Array.from({ length: opts.clusters }, (_, i) => `ha-${i}`);
  const tmp = await mkdtemp(join(tmpdir(), `fault-${label}-`));
  let git: GitHttpServer | undefined;
  let db: TestDatabase | undefined;
  let nats: TestNats | undefined;
  let nc: NatsConnection | undefined;
  let pool: pg.Pool | undefined;
  const hubs: HubChild[] = [];
  const close = async () => {
    for (const h of hubs) await h.process.stop();
    await pool?.end();
    await nc?.close();
    await nats?.cleanup();
    await db?.drop();
    await git?.close();
    await rm(tmp, { recursive: true, force: true });
  };
  try {
    git = await startGitHttpServer();
    const repoUrl = git.createBareRepo("env");
    const work = join(tmp, "work");
    await createWorkRepo(work, { "flotilla.yaml": fleetYaml(clusters), "apps/probe/cm.yaml": CONFIGMAP(0) });
    await pushWorkRepo(work, repoUrl);
    await writeFile(join(tmp, "signing.pem"), privateKeyPem(generateSigningKey()), { mode: 0o600 });
    db = await createTestDatabase(label);
    nats = createTestNats(label);
    nc = await connect({ servers: nats.url });
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
    const { url: dbUrl } = db;
    const { url: natsUrl, prefix } = nats;
    const names = wireNames(prefix);
    const conn = nc;
    const pgPool = pool;

    const start = async (name: string): Promise<HubChild> => {
      const child = startFlotilla(
        ["hub", "--repo", repoUrl, "--database-url", dbUrl, "--nats-url", natsUrl, "--nats-prefix", prefix, "--signing-key", join(tmp, "signing.pem"), "--listen", "127.0.0.1:0", "--poll-interval", "3600", "--insecure-no-auth", "--hub-id", name],
      );
      const serving = await child.logLine("hub serving", 180_000);
      return { name, process: child, url: String(serving.url) };
    };
    // One after the other: the first leads (it resolves the whole fleet first), the second follows.
    hubs.push(await start("hub-a"));
    hubs.push(await start("hub-b"));

    let version = 0;
    let sent = 0;
    const roles = async () => {
      const seen = await Promise.all(hubs.filter((h) => h.process.child.exitCode === null && h.process.child.signalCode === null).map(async (h) => ({ h, body: (await (await fetch(`${h.url}/readyz`)).json()) as { role?: string } })));
      const leaders = seen.filter((s) => s.body.role === "leader");
      const followers = seen.filter((s) => s.body.role === "follower");
      if (leaders.length !== 1 || followers.length !== 1) throw new Error(`expected one leader and one follower, got ${JSON.stringify(seen.map((s) => [s.h.name, s.body.role]))}`);
      return { leader: leaders[0]!.h, follower: followers[0]!.h };
    };
    const latestRevision = async (cluster: string) => {
      const kv = await new Kvm(conn).open(names.desiredBucket);
      const e = await kv.get(desiredKey(cluster));
      return e && e.operation === "PUT" ? parseSignedPointer(decodeJson(e.value)).revision : undefined;
    };
    /** Log lines `published desired pointer` of a hub for a revision, with their times. */
    const publishedLines = (h: HubChild, revision: string) =>
      h.process
        .output()
        .split("\n")
        .filter((l) => l.startsWith("{") && l.includes('"msg":"published desired pointer"') && l.includes(revision))
        // The CLI logs ISO times (process-logger.ts).
        .map((l) => ({ time: Date.parse((JSON.parse(l) as { time: string }).time) }));

    const rig: HaRig = {
      clusters,
      hubs,
      roles,
      async commit() {
        version++;
        const sha = await commitFiles(work, { "apps/probe/cm.yaml": CONFIGMAP(version) }, `probe v${version}`);
        await pushWorkRepo(work, repoUrl);
        return sha;
      },
      async publishReports(n) {
        const js = jetstream(conn);
        const from = sent;
        sent += n;
        for (let k = from; k < from + n; k += 50) {
          await Promise.all(
            Array.from({ length: Math.min(50, from + n - k) }, (_, i) => {
              const report = driftProbeReport({ cluster: clusters[0]!, index: k + i, actor: "ha-probe" });
              return js.publish(reportSubject(names, clusters[0]!, "drift"), encodeJson(report), { msgID: report.id });
            }),
          );
        }
      },
      async storedReports() {
        const { rows } = await pgPool.query<{ d: string; n: string }>("select count(distinct name) as d, count(*) as n from drift_events where actor = 'ha-probe'");
        return { distinct: Number(rows[0]!.d), rows: Number(rows[0]!.n) };
      },
      reportsSent: () => sent,
      async pointerHistory(cluster) {
        const kv = await new Kvm(conn).open(names.desiredBucket);
        const out: { generation: number; revision: string }[] = [];
        for await (const e of await kv.history({ key: desiredKey(cluster) })) {
          if (e.operation !== "PUT") continue;
          const p = parseSignedPointer(decodeJson(e.value));
          out.push({ generation: p.generation, revision: p.revision });
        }
        return out;
      },
      async failover(killAfter) {
        const { leader, follower } = await roles();
        const revision = await rig.commit();
        // The refresh answers only after the publish, which the kill interrupts.
        void fetch(`${leader.url}/v1/refresh`, { method: "POST" }).catch(() => undefined);
        await waitFor(() => publishedLines(leader, revision).length >= killAfter || undefined, { what: `${leader.name} publishing ${killAfter} pointers of ${revision.slice(0, 8)}`, timeoutMs: 60_000, intervalMs: 5 });
        const killedAt = Date.now();
        await leader.process.kill();
        const publishedBeforeKill = publishedLines(leader, revision).length;
        const first = await waitFor(() => publishedLines(follower, revision)[0], { what: `${follower.name} publishing after the takeover`, timeoutMs: 60_000, intervalMs: 5 });
        await waitFor(async () => (await Promise.all(clusters.map(latestRevision))).every((r) => r === revision), { what: `every cluster's pointer at ${revision.slice(0, 8)}`, timeoutMs: 60_000, intervalMs: 50 });
        const completeMs = Date.now() - killedAt;
        return { revision, publishedBeforeKill, takeoverMs: first.time - killedAt, completeMs, killed: leader, leader: follower };
      },
      async restart(hub) {
        const again = await start(hub.name);
        hubs[hubs.indexOf(hub)] = again;
      },
      close,
    };
    return rig;
  } catch (err) {
    await close();
    throw err;
  }
}
