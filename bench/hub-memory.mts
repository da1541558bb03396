// The hub's memory at N clusters without the agents (issue "hub RSS at 1,000 clusters"): the real
// hub in its own process (bench/lib/fleet-hub.mts, as bench/fleet.mts starts it) on a fleet file of
// N clusters with one app each, plus one heartbeat, status and drift report per cluster published
// on NATS JetStream as the agents do; memory after the hub converged (every cluster's status row
// in Postgres) and after a forced full GC, and optionally a heap snapshot.
//
//   node --conditions=@flotilla/source --import tsx bench/hub-memory.mts [--clusters 1000] [--hub-code built|source] [--snapshot out.heapsnapshot]
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { connect } from "@nats-io/transport-node";
import { jetstream } from "@nats-io/jetstream";
import pg from "pg";
import { commitFiles, createWorkRepo } from "@flotilla/envrepo/testing";
import { createTestDatabase, createTestNats } from "@flotilla/testkit";
import { encodeJson, generateSigningKey, reportSubject, wireNames } from "@flotilla/wire";
import { Cleanup } from "./lib/cleanup.mts";
import type { FromHub } from "./lib/fleet-hub.mts";
import { codeOption } from "./lib/compiled-code.mts";
import { startFleetHubProcess } from "./lib/fleet-hub-process.mts";
import { fleetYaml, type FleetEntry } from "./lib/lab.mts";
import { clusterName, ReportGenerator } from "./lib/reports.mts";
import { figure, heading, ms } from "./lib/stats.mts";

const { values } = parseArgs({
  options: {
    clusters: { type: "string", default: "1000" },
    snapshot: { type: "string" },
    "hub-code": { type: "string" },
  },
});
const N = Number(values.clusters);
const sleep = (msec: number) => new Promise((r) => setTimeout(r, msec));
const MiB = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;
const configMap = (ns: string, version: number) =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: ${ns}\ndata:\n  version: "${version}"\n`;

const show = (what: string, m: FromHub) => {
  if (!("memory" in m)) throw new Error(JSON.stringify(m));
  const u = m.memory;
  figure(what, `rss ${MiB(u.rss)}, heapTotal ${MiB(u.heapTotal)}, heapUsed ${MiB(u.heapUsed)}, external ${MiB(u.external)}, arrayBuffers ${MiB(u.arrayBuffers)}`);
};

async function main(cleanup: Cleanup): Promise<void> {
  console.log(`bench/hub-memory: the hub alone at ${N} clusters (${process.argv.slice(1).join(" ")})`);
  const tmp = await mkdtemp(join(tmpdir(), "bench-hubmem-"));
  cleanup.add("temp dir", () => rm(tmp, { recursive: true, force: true }));
  const repoDir = join(tmp, "repo");
  const entries: FleetEntry[] = Array.from({ length: N }, (_, i) => ({ cluster: clusterName(i), namespaces: [`ns-${i}`], app: `app-${i}`, path: `apps/app-${i}` }));
  const files = (version: number): Record<string, string> => Object.fromEntries(entries.map((e, i) => [`${e.path}/settings.yaml`, configMap(`ns-${i}`, version)]));
  await createWorkRepo(repoDir, { "flotilla.yaml": fleetYaml(entries), ...files(1) });
  const db = await createTestDatabase("benchhubmem");
  cleanup.add("database", () => db.drop());
  const nats = createTestNats("benchhubmem");
  cleanup.add("nats streams", () => nats.cleanup());
  const signingKey = generateSigningKey();
  const { ask } = await startFleetHubProcess({
    cleanup,
    dir: tmp,
    config: { repoDir, databaseUrl: db.url, natsUrl: nats.url, natsPrefix: nats.prefix },
    signingKey,
    execArgv: [...process.execArgv, "--expose-gc"],
    code: codeOption("--hub-code", values["hub-code"]),
  });
  const started = await ask();
  if (!("started" in started)) throw new Error(`hub did not start: ${JSON.stringify(started).slice(0, 500)}`);
  figure("hub start (first resolve + publish of N clusters)", ms(started.ms));
  show("after the start", await ask({ memory: {} }));

  // A commit changing every cluster's app, as bench/fleet's B1 does.
  await commitFiles(repoDir, files(2), "bench: change every app");
  const r = await ask({ refresh: true });
  if (!("refreshed" in r)) throw new Error(`refresh failed: ${JSON.stringify(r).slice(0, 500)}`);
  figure("refresh after a commit changing every app", `${r.refreshed.published} published`);
  show("after the refresh", await ask({ memory: {} }));

  // One report of each kind per cluster, as the agents publish them.
  const nc = await connect({ servers: nats.url });
  cleanup.add("bench nats connection", () => nc.close());
  const js = jetstream(nc);
  const names = wireNames(nats.prefix);
  const gen = new ReportGenerator(N, { heartbeat: 1, status: 1, drift: 1 }, 4);
  for (let k = 0; k < 3 * N; k += 64) {
    await Promise.all(
      Array.from({ length: Math.min(64, 3 * N - k) }, () => {
        const rep = gen.next();
        return js.publish(reportSubject(names, rep.cluster, rep.kind), encodeJson(rep), { msgID: rep.id, timeout: 30_000 });
      }),
    );
  }
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  cleanup.add("bench database connection", () => client.end());
  for (;;) {
    const { rows } = await client.query<{ n: string }>("SELECT count(*) AS n FROM cluster_status");
    if (Number(rows[0]!.n) >= N) break;
    await sleep(100);
  }
  await sleep(2_000); // the last batch's acks and timers settle

  heading(`hub memory at ${N} clusters`);
  show("after convergence", await ask({ memory: {} }));
  show("after a full GC", await ask({ memory: { gc: true } }));
  if (values.snapshot) {
    const snap = await ask({ memory: { gc: true, snapshot: resolve(values.snapshot) } });
    figure("heap snapshot", "memory" in snap ? (snap.memory.snapshot ?? "-") : "-");
  }
}

const cleanup = new Cleanup();
await main(cleanup).then(
  () => cleanup.run(),
  async (err: unknown) => {
    console.error(err);
    await cleanup.run();
    process.exitCode = 1;
  },
);
