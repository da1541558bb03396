
// Fault campaign: `flotilla hub` killed with SIGKILL in the middle of ingesting a stream of agent
// reports (JetStream → Postgres), then a second hub started on the same database and stream. The
// ingest acknowledges a message only after the transaction that wrote it committed (ingest.ts),
// and the message id is stored in that transaction: whatever the kill interrupted — a batch being
// written, a commit whose acks never left — is redelivered and stored exactly once. The hub's
// restart must not publish a desired pointer no commit explains (agents would re-apply).
// The shared Postgres and NATS are fine here: nothing stops them; the database and the prefix are
// this test's own. No Kubernetes: the reports are published straight to JetStream.
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import pg from "pg";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { driftProbeReport } from "@flotilla/hub/testing";
import { createWorkRepo, pushWorkRepo, startGitHttpServer, type GitHttpServer } from "@flotilla/envrepo/testing";
import { createTestDatabase, createTestNats, waitFor, type TestDatabase, type TestNats } from "@flotilla/testkit";
import { encodeJson, generateSigningKey, privateKeyPem, reportSubject, wireNames } from "@flotilla/wire";
import { startFlotilla, type FlotillaProcess } from "./support/flotilla-process.js";
import { recordFault } from "./support/record.js";

const CLUSTER = "fault-1";
/** Reports published in all; the first hub is killed once KILL_AT of them are stored. */
const TOTAL = 3_000;
const KILL_AT = 400;
const FLEET = `apiVersion: flotilla.dev/v1alpha1
environments:
  - name: dev
clusters:
  - name: ${CLUSTER}
    environment: dev
apps:
  - name: probe
    path: apps/probe
`;
const CONFIGMAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-0\n  namespace: default\ndata:\n  value: v0\n";

let tmp: string;
let git: GitHttpServer;
let repoUrl: string;
let db: TestDatabase;
let nats: TestNats;
let nc: NatsConnection;
let pool: pg.Pool;
const hubs: FlotillaProcess[] = [];

beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), "fault-hub-kill-"));
  git = await startGitHttpServer();
  repoUrl = git.createBareRepo("env");
  const work = join(tmp, "work");
  await createWorkRepo(work, { "flotilla.yaml": FLEET, "apps/probe/cm.yaml": CONFIGMAP });
  await pushWorkRepo(work, repoUrl);
  await writeFile(join(tmp, "signing.pem"), privateKeyPem(generateSigningKey()), { mode: 0o600 });
  db = await createTestDatabase("faulthubkill");
  nats = createTestNats("faulthubkill");
  nc = await connect({ servers: nats.url });
  pool = new pg.Pool({ connectionString: db.url, max: 2 });
}, 60_000);

afterAll(async () => {
  for (const h of hubs) await h.stop();
  await pool?.end();
  await nc?.close();
  await nats?.cleanup();
  await db?.drop();
  await git?.close();
  if (tmp) await rm(tmp, { recursive: true, force: true });
}, 60_000);

function startHub(): FlotillaProcess {
  const hub = startFlotilla([
    "hub", "--repo", repoUrl, "--database-url", db.url, "--nats-url", nats.url, "--nats-prefix", nats.prefix,
    "--signing-key", join(tmp, "signing.pem"), "--listen", "127.0.0.1:0", "--poll-interval", "3600", "--insecure-no-auth",
  ]);
  hubs.push(hub);
  return hub;
}

async function rows(): Promise<{ rows: number; distinct: number; messages: number; pointers: number }> {
  const { rows: [r] } = await pool.query<{ rows: string; distinct: string; messages: string; pointers: string }>(
    `select (select count(*) from drift_events where actor = 'fault-probe') as rows,
            (select count(distinct name) from drift_events where actor = 'fault-probe') as distinct,
            (select count(*) from ingested_messages) as messages,
            (select count(*) from desired_pointers) as pointers`,
  );
  return { rows: Number(r!.rows), distinct: Number(r!.distinct), messages: Number(r!.messages), pointers: Number(r!.pointers) };
}

/** Publishes drift reports probe-<from>..probe-<to - 1> to JetStream, 50 at a time, each with its
 * id as Nats-Msg-Id (as the agent's reporter does); resolves once JetStream acknowledged them all. */
async function publish(from: number, to: number): Promise<void> {
  const js = jetstream(nc);
  const names = wireNames(nats.prefix);
  for (let k = from; k < to; k += 50) {
    await Promise.all(
      Array.from({ length: Math.min(50, to - k) }, (_, i) => {
        const report = driftProbeReport({ cluster: CLUSTER, index: k + i, actor: "fault-probe" });
        return js.publish(reportSubject(names, CLUSTER, "drift"), encodeJson(report), { msgID: report.id });
      }),
    );
  }
}

describe("fault campaign: hub", () => {
  it("kill -9 mid-ingest: every report is stored exactly once by the next hub; no pointer is re-published", async () => {
    const first = startHub();
    await first.logLine("hub serving");
    const before = await rows();
    expect(before.pointers).toBe(1);

    // A stream of reports while the first hub ingests it; killed once part of it is stored.
    const publishing = publish(0, TOTAL);
    await waitFor(async () => (await rows()).distinct >= KILL_AT, { what: `${KILL_AT} reports stored by the first hub`, timeoutMs: 60_000, intervalMs: 20 });
    await first.kill();
    expect(await first.exited).toBe("SIGKILL");
    const atKill = await rows();
    const jsm = await jetstreamManager(nc);
    const consumer = await jsm.consumers.info(wireNames(nats.prefix).reportStream, wireNames(nats.prefix).ingestConsumer);
    // Delivered to the dead hub and never acknowledged: redelivered after the consumer's ack_wait.
    const inFlightAtKill = consumer.num_ack_pending;
    await publishing;
    // The kill came before the stream was ingested (else nothing was interrupted).
    expect(atKill.distinct).toBeLessThan(TOTAL);

    const t0 = performance.now();
    const second = startHub();
    const resolved = await second.logLine("hub resolved the env repo");
    await waitFor(async () => (await rows()).distinct === TOTAL, { what: `all ${TOTAL} reports stored after the restart`, timeoutMs: 120_000, intervalMs: 100 });
    const recoveryMs = performance.now() - t0;
    // Nothing more arrives: the redeliveries of the killed hub's messages are all in.
    await waitFor(async () => {
      const c = await jsm.consumers.info(wireNames(nats.prefix).reportStream, wireNames(nats.prefix).ingestConsumer);
      return c.num_ack_pending === 0 && c.num_pending === 0;
    }, { what: "the ingest consumer drained", timeoutMs: 60_000 });
    const after = await rows();

    const figures = {
      sent: TOTAL,
      lost: TOTAL - after.distinct,
      duplicated: after.rows - after.distinct,
      // The restarted hub found the same revision: no new pointer, none re-published.
      spurious: after.pointers - before.pointers + Number(resolved.published ?? 0),
    };
    recordFault({ fault: "hub kill -9 mid-ingest", ...figures, recoveryMs, storedAtKill: atKill.distinct, inFlightAtKill });
    expect(figures).toMatchObject({ lost: 0, duplicated: 0, spurious: 0 });
    // One ingested message per report: no report stored under a second message id.
    expect(after.messages).toBe(TOTAL);
  }, 300_000);
});
