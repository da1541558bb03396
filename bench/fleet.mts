// B1 / B3, the fleet at scale: N namespace-scoped agents (the real startAgent) in one process
// against one real control plane (etcd + kube-apiserver), each its own cluster identity (a
// ServiceAccount whose Role reaches only its namespace) and namespace, and the real hub (startHub
// on Postgres and NATS JetStream) reading a fleet file of N clusters with one app each (a
// ConfigMap in the cluster's namespace).
//
//   node --conditions=@flotilla/source --import tsx bench/fleet.mts [--clusters 100] [--idle 30] [--changes 2]
//     [--ceiling-concurrency 32] [--steady-minutes 0] [--hub-code built|source] [--agents-code built|source] [--hub-node-options "..."]
//
// B1: a commit changing every cluster's app → until every cluster applied it and its Synced
// status is a row in Postgres, with the breakdown:
//   render   refresh() called → the first new pointer on NATS (the hub renders before it publishes)
//   publish  first → last new pointer on NATS (bundles to the object store, signed pointers to KV)
//   fan-out  a cluster's pointer on NATS → its agent's Applying report (the agent's `at`)
//   apply    Applying → Synced report (`at`; includes the agent's 250 ms status debounce)
//   report   Synced report → its row visible in cluster_status (polled every 50 ms)
// The hub's refresh() is called right after the commit, as the Git webhook does. Each change also
// prints the CPU seconds each process took during it (hub, agents, bench, control plane,
// nats-server, Postgres, everything else: bench/lib/cpu-account.mts) against the machine's busy
// time — on 2 cores B1 cannot be shorter than half the CPU it takes — and the API server's
// requests per cluster by verb (its apiserver_request_total, bench/lib/apiserver-requests.mts).
// Ceiling: the same apply on the API server alone (bench/lib/apply-ceiling.mts): one server-side
// apply per namespace with the admin credentials, --ceiling-concurrency at a time, no Flotilla.
// Steady state (--steady-minutes M): after B1, the agents process and hub RSS (and CPU over the
// minute) printed every minute, then first → last.
// B3: idle cost after convergence: RSS and CPU of the agents process over --idle seconds divided
// by N, and the hub's RSS (the hub runs alone in its own process, bench/lib/fleet-hub.mts; the
// bench process, which made the namespaces and commits, is printed apart).
//
// Goals (issue "Fleet at scale"): B1 ≤ 3 s at 100 clusters, ≤ 20 s at 1,000; B3 ≤ 1 MiB and
// ≤ 0.1 mCPU per cluster, hub ≤ 256 MiB.
import { fork } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { parseArgs } from "node:util";
import { connect } from "@nats-io/transport-node";
import { commitFiles, createWorkRepo } from "@flotilla/envrepo/testing";
import { createTestDatabase, createTestNats, kubeRequestOk, startControlPlane } from "@flotilla/testkit";
import { generateSigningKey } from "@flotilla/wire";
import { applyCeiling } from "./lib/apply-ceiling.mts";
import { apiserverRequests, formatRequestsBetween } from "./lib/apiserver-requests.mts";
import { cpuSnapshot, formatCpuBetween, pidsMatching, type ProcessGroups } from "./lib/cpu-account.mts";
import { Cleanup } from "./lib/cleanup.mts";
import type { FleetAgentsConfig, FromAgents } from "./lib/fleet-agents.mts";
import { codeOption, execArgvFor } from "./lib/compiled-code.mts";
import { startFleetHubProcess } from "./lib/fleet-hub-process.mts";
import { fleetYaml, type FleetEntry } from "./lib/lab.mts";
import { figure, formatSummary, heading, ms, summarize } from "./lib/stats.mts";

const { values } = parseArgs({
  options: {
    clusters: { type: "string", default: "100" },
    idle: { type: "string", default: "30" },
    changes: { type: "string", default: "2" },
    "start-concurrency": { type: "string", default: "8" },
    "timeout-seconds": { type: "string", default: "600" },
    "ceiling-concurrency": { type: "string", default: "32" },
    "steady-minutes": { type: "string", default: "0" },
    // Extra node flags for the hub process, e.g. "--max-semi-space-size=2".
    "hub-node-options": { type: "string", default: "" },
    // "built" (default): the compiled code, as the images run it; "source": through tsx.
    "hub-code": { type: "string" },
    "agents-code": { type: "string" },
  },
});
const N = Number(values.clusters);
const IDLE_S = Number(values.idle);
const CHANGES = Number(values.changes);
const TIMEOUT_MS = Number(values["timeout-seconds"]) * 1000;
const GOAL_B1_MS = N <= 100 ? 3_000 : N >= 1_000 ? 20_000 : 3_000 + ((N - 100) * 17_000) / 900;
const CLK_TCK = 100;
const sleep = (msec: number) => new Promise((r) => setTimeout(r, msec));

const cluster = (i: number) => `fleet-${String(i).padStart(4, "0")}`;
const configMap = (ns: string, version: number) =>
  `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n  namespace: ${ns}\ndata:\n  version: "${version}"\n`;

function procStats(pid: number): Promise<{ rssKiB: number; cpuS: number }> {
  return Promise.all([readFile(`/proc/${pid}/status`, "utf8"), readFile(`/proc/${pid}/stat`, "utf8")]).then(([status, stat]) => {
    const rssKiB = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return { rssKiB, cpuS: (Number(fields[11]) + Number(fields[12])) / CLK_TCK };
  });
}

async function main(cleanup: Cleanup): Promise<void> {
  console.log(`bench/fleet: ${N} namespace-scoped agents in one process, one control plane (etcd + kube-apiserver), hub on Postgres + NATS`);
  const t0 = performance.now();
  const plane = await startControlPlane({ name: "bench-fleet", controllers: false });
  cleanup.add("control plane", () => plane.stop());
  figure("control plane start", ms(performance.now() - t0));

  // Namespaces and identities, 16 at a time.
  const t1 = performance.now();
  const namespaces: string[] = new Array<string>(N);
  const kubeconfigs: string[] = new Array<string>(N);
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < N) {
        const i = next++;
        const ns = `${cluster(i)}-${plane.name.length}${Math.random().toString(36).slice(2, 6)}`;
        await kubeRequestOk(plane.kubeConfig, { method: "POST", path: "/api/v1/namespaces", body: { apiVersion: "v1", kind: "Namespace", metadata: { name: ns } } });
        const id = await plane.mintNamespacedIdentity({ name: "flotilla-agent", namespaces: [ns] });
        namespaces[i] = ns;
        kubeconfigs[i] = id.kubeconfigPath;
      }
    }),
  );
  figure(`${N} namespaces + ServiceAccount/Role/RoleBinding/token`, ms(performance.now() - t1));

  const tmp = await mkdtemp(join(tmpdir(), "bench-fleet-"));
  cleanup.add("temp dir", () => rm(tmp, { recursive: true, force: true }));
  const repoDir = join(tmp, "repo");
  const entries: FleetEntry[] = Array.from({ length: N }, (_, i) => ({ cluster: cluster(i), namespaces: [namespaces[i]!], app: `app-${i}`, path: `apps/app-${i}` }));
  const files = (version: number): Record<string, string> =>
    Object.fromEntries(entries.map((e, i) => [`${e.path}/settings.yaml`, configMap(namespaces[i]!, version)]));
  await createWorkRepo(repoDir, { "flotilla.yaml": fleetYaml(entries), ...files(1) });

  const db = await createTestDatabase("benchfleet");
  cleanup.add("database", () => db.drop());
  const nats = createTestNats("benchfleet");
  cleanup.add("nats streams", () => nats.cleanup());
  const signingKey = generateSigningKey();
  const here = fileURLToPath(new URL(".", import.meta.url));
  const { child: hubChild, ask: askHub } = await startFleetHubProcess({
    cleanup,
    dir: tmp,
    config: { repoDir, databaseUrl: db.url, natsUrl: nats.url, natsPrefix: nats.prefix },
    signingKey,
    code: codeOption("--hub-code", values["hub-code"]),
    ...(values["hub-node-options"] ? { execArgv: [...process.execArgv, ...values["hub-node-options"].split(" ").filter(Boolean)] } : {}),
  });
  const hubStarted = await askHub();
  if (!("started" in hubStarted)) throw new Error(`hub did not start: ${"failed" in hubStarted ? hubStarted.failed : JSON.stringify(hubStarted)}`);
  figure("hub start, own process (first resolve of N clusters included)", ms(hubStarted.ms));
  const refresh = async () => {
    const m = await askHub({ refresh: true });
    if (!("refreshed" in m)) throw new Error(`refresh failed: ${JSON.stringify(m).slice(0, 500)}`);
    return m.refreshed;
  };
  const pgClient = new pg.Client({ connectionString: db.url });
  await pgClient.connect();
  cleanup.add("bench database connection", () => pgClient.end());

  // What the bench sees on NATS: new pointers (the KV bucket's subjects) and status reports.
  const nc = await connect({ servers: nats.url });
  cleanup.add("bench nats connection", () => nc.close());
  const decoder = new TextDecoder();
  const pointerAt = new Map<string, { generation: number; at: number }>();
  const reports = new Map<string, { generation: number; syncState: string; at: number }[]>();
  nc.subscribe(`$KV.${hubStarted.desiredBucket}.*.desired`, {
    callback: (err, m) => {
      if (err || m.data.length === 0) return;
      const p = JSON.parse(decoder.decode(m.data)) as { payload?: { cluster: string; generation: number }; cluster?: string; generation?: number };
      const body = p.payload ?? (p as { cluster: string; generation: number });
      pointerAt.set(body.cluster, { generation: body.generation, at: Date.now() });
    },
  });
  nc.subscribe(`${nats.prefix}.report.*.status`, {
    callback: (err, m) => {
      if (err) return;
      const r = JSON.parse(decoder.decode(m.data)) as { cluster: string; generation: number; syncState: string; at: string };
      const list = reports.get(r.cluster) ?? [];
      list.push({ generation: r.generation, syncState: r.syncState, at: Date.parse(r.at) });
      reports.set(r.cluster, list);
    },
  });
  await nc.flush();

  /** Polls cluster_status until every cluster is Synced at (at least) its wanted generation; returns when each became visible. */
  const waitRows = async (wanted: (c: string) => number | undefined, what: string): Promise<Map<string, number>> => {
    const visible = new Map<string, number>();
    const deadline = performance.now() + TIMEOUT_MS;
    for (;;) {
      // Only the clusters not seen yet: polling 1,000 rows every 50 ms is CPU the agents and hub need.
      const pending = entries.map((e) => e.cluster).filter((c) => !visible.has(c));
      const { rows } = await pgClient.query<{ cluster: string; generation: string }>("SELECT cluster, generation FROM cluster_status WHERE sync_state = 'Synced' AND cluster = ANY($1::text[])", [pending]);
      const at = Date.now();
      for (const r of rows) {
        const g = wanted(r.cluster);
        if (g !== undefined && Number(r.generation) >= g && !visible.has(r.cluster)) visible.set(r.cluster, at);
      }
      if (visible.size >= N) return visible;
      if (performance.now() > deadline) throw new Error(`${what}: only ${visible.size} of ${N} clusters Synced after ${TIMEOUT_MS / 1000} s`);
      await sleep(50);
    }
  };

  // The agents, in their own process.
  const configPath = join(tmp, "agents.json");
  const agentsConfig: FleetAgentsConfig = {
    natsUrl: nats.url,
    natsPrefix: nats.prefix,
    hubPublicKeyPem: signingKey.publicKey.export({ type: "spki", format: "pem" }).toString(),
    stateDir: join(tmp, "agents"),
    startConcurrency: Number(values["start-concurrency"]),
    clusters: entries.map((e, i) => ({ name: e.cluster, namespace: namespaces[i]!, kubeconfigPath: kubeconfigs[i]! })),
  };
  await writeFile(configPath, JSON.stringify(agentsConfig));
  const t3 = performance.now();
  const child = fork(join(here, "lib/fleet-agents.mts"), [configPath], { stdio: "inherit", execArgv: execArgvFor(codeOption("--agents-code", values["agents-code"]), process.execArgv) });
  cleanup.add("agents process", async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once("exit", r));
    child.send({ stop: true });
    await Promise.race([exited, sleep(15_000)]);
    if (child.exitCode === null) child.kill("SIGKILL");
  });
  const started = await new Promise<FromAgents>((resolve, reject) => {
    child.once("message", (m: FromAgents) => resolve(m));
    child.once("exit", (code) => reject(new Error(`agents process exited (${code}) while starting`)));
  });
  if ("failed" in started) throw new Error(`agents did not start: ${started.failed}`);
  figure(`${N} agents started (startAgent, ${agentsConfig.startConcurrency} at a time)`, ms(started.ms));
  const firstGen = new Map([...pointerAt].map(([c, p]) => [c, p.generation]));
  await waitRows((c) => firstGen.get(c) ?? 1, "first sync");
  figure(`agents process start → all ${N} Synced (rows in Postgres)`, ms(performance.now() - t3));

  // ---- B3: idle cost
  heading(`B3: idle ${IDLE_S} s after convergence`);
  await sleep(5_000); // let the first sync's last reports and timers settle
  const a0 = await procStats(child.pid!);
  const h0 = await procStats(hubChild.pid!);
  const rss: number[] = [];
  for (let s = 0; s < IDLE_S; s += 5) {
    await sleep(Math.min(5, IDLE_S - s) * 1000);
    rss.push((await procStats(child.pid!)).rssKiB);
  }
  const a1 = await procStats(child.pid!);
  const h1 = await procStats(hubChild.pid!);
  const b0 = await procStats(process.pid);
  const agentsRssMiB = a1.rssKiB / 1024;
  const perClusterMiB = agentsRssMiB / N;
  const perClusterMcpu = ((a1.cpuS - a0.cpuS) / IDLE_S / N) * 1000;
  const hubRssMiB = h1.rssKiB / 1024;
  figure("agents process RSS at the end (min–max while idle)", `${agentsRssMiB.toFixed(1)} MiB (${(Math.min(...rss) / 1024).toFixed(1)}–${(Math.max(...rss) / 1024).toFixed(1)})`);
  figure("agents process CPU while idle", `${(a1.cpuS - a0.cpuS).toFixed(2)} s in ${IDLE_S} s = ${(((a1.cpuS - a0.cpuS) / IDLE_S) * 1000).toFixed(1)} mCPU`);
  const marginalKiB = (a1.rssKiB - started.baselineRssKiB) / N;
  figure("per simulated cluster (RSS / N)", `${(perClusterMiB * 1024).toFixed(0)} KiB RSS, ${perClusterMcpu.toFixed(3)} mCPU`);
  figure("per simulated cluster above the empty process", `${marginalKiB.toFixed(0)} KiB RSS (empty process with the agent's code loaded: ${(started.baselineRssKiB / 1024).toFixed(1)} MiB)`);
  figure("hub process RSS; CPU while idle", `${hubRssMiB.toFixed(1)} MiB; ${(((h1.cpuS - h0.cpuS) / IDLE_S) * 1000).toFixed(1)} mCPU`);
  figure("bench process RSS (not the hub: namespaces, commits, what it saw on NATS)", `${(b0.rssKiB / 1024).toFixed(1)} MiB`);

  // ---- B1: commit → applied and reported everywhere
  // CPU per process group over each change: on 2 cores, B1 cannot be shorter than the CPU it takes
  // divided by 2, whatever the order the hub and agents do things in.
  const cpuGroups: ProcessGroups = {
    hub: () => [hubChild.pid!],
    agents: () => [child.pid!],
    bench: () => [process.pid],
    "etcd + kube-apiserver": () => plane.pids(),
    "nats-server": () => pidsMatching(`nats-server.*${new URL(nats.url).port}`),
    // Shared with every other user of the server; its short-lived backends are missed.
    "postgres (shared)": () => pidsMatching("^postgres"),
  };
  const b1: number[] = [];
  // The hub's RSS idle after its start, then after each change: the goal holds only if every one is under it.
  const hubRss: { when: string; mib: number }[] = [{ when: "idle", mib: hubRssMiB }];
  for (let round = 1; round <= CHANGES; round++) {
    heading(`B1 change ${round}: a commit changing all ${N} clusters' ConfigMap`);
    const before = new Map([...pointerAt].map(([c, p]) => [c, p.generation]));
    const requests0 = await apiserverRequests(plane.kubeConfig);
    const cpu0 = await cpuSnapshot(cpuGroups);
    const tCommit = Date.now();
    const revision = await commitFiles(repoDir, files(round + 1), `bench change ${round}`);
    const tRefresh = Date.now();
    const outcome = await refresh();
    const tResolved = Date.now();
    if (outcome.failed || outcome.revision !== revision) throw new Error(`resolve failed: ${JSON.stringify(outcome).slice(0, 500)}`);
    const target = (c: string) => {
      const p = pointerAt.get(c);
      return p && p.generation > (before.get(c) ?? 0) ? p.generation : undefined;
    };
    const visible = await waitRows(target, `change ${round}`);
    const tDone = Math.max(...visible.values());
    const cpu1 = await cpuSnapshot(cpuGroups);
    const requests1 = await apiserverRequests(plane.kubeConfig);
    const newPointers = [...pointerAt.entries()].filter(([c]) => target(c) !== undefined).map(([, p]) => p.at);
    const fanout: number[] = [];
    const apply: number[] = [];
    const report: number[] = [];
    for (const [c, p] of pointerAt) {
      const g = target(c);
      if (g === undefined) continue;
      const rs = reports.get(c) ?? [];
      const applying = rs.find((r) => r.generation === g && r.syncState === "Applying");
      const synced = rs.find((r) => r.generation === g && r.syncState === "Synced");
      if (applying) fanout.push(applying.at - p.at);
      if (applying && synced) apply.push(synced.at - applying.at);
      if (synced) report.push(visible.get(c)! - synced.at);
    }
    const total = tDone - tCommit;
    b1.push(total);
    figure("commit (write + git commit)", ms(tRefresh - tCommit));
    figure("render (refresh → first new pointer)", ms(Math.min(...newPointers) - tRefresh));
    figure("publish (first → last new pointer)", `${ms(Math.max(...newPointers) - Math.min(...newPointers))} (${outcome.published} pointers; refresh() returned after ${ms(tResolved - tRefresh)})`);
    figure("fan-out (pointer → agent's Applying report)", formatSummary(summarize(fanout)));
    figure("apply (Applying → Synced report)", formatSummary(summarize(apply)));
    figure("report (Synced report → row in Postgres)", formatSummary(summarize(report)));
    figure("CPU over the change", formatCpuBetween(cpu0, cpu1));
    figure("API server requests over the change", formatRequestsBetween(requests0, requests1, N));
    const rssAfter = (await procStats(hubChild.pid!)).rssKiB / 1024;
    hubRss.push({ when: `after change ${round}`, mib: rssAfter });
    figure("hub process RSS after the change", `${rssAfter.toFixed(1)} MiB`);
    figure(`commit → all ${N} applied and reported`, `${ms(total)} — goal ≤ ${ms(GOAL_B1_MS)} ${total <= GOAL_B1_MS ? "met" : "NOT met"}`);
  }

  // ---- Ceiling: the same apply on the API server alone
  heading(`ceiling: ${N} server-side applies on the API server alone (no Flotilla)`);
  const ceiling: number[] = [];
  for (let round = 1; round <= CHANGES; round++) {
    const c = await applyCeiling(plane.kubeConfig, namespaces, round, Number(values["ceiling-concurrency"]));
    ceiling.push(c.totalMs);
    figure(`round ${round}: ${N} applies, ${values["ceiling-concurrency"]} at a time`, `${ms(c.totalMs)} (${((N / c.totalMs) * 1000).toFixed(0)}/s); per apply ${formatSummary(summarize(c.perObjectMs))}`);
  }

  // ---- Steady state
  const steadyMinutes = Number(values["steady-minutes"]);
  if (steadyMinutes > 0) {
    heading(`steady state: ${steadyMinutes} min at ${N} clusters (RSS every minute)`);
    const first = { a: await procStats(child.pid!), h: await procStats(hubChild.pid!) };
    let prev = first;
    for (let m = 1; m <= steadyMinutes; m++) {
      await sleep(60_000);
      const now = { a: await procStats(child.pid!), h: await procStats(hubChild.pid!) };
      figure(
        `minute ${m}`,
        `agents ${(now.a.rssKiB / 1024).toFixed(1)} MiB, ${(((now.a.cpuS - prev.a.cpuS) / 60) * 1000).toFixed(1)} mCPU; hub ${(now.h.rssKiB / 1024).toFixed(1)} MiB, ${(((now.h.cpuS - prev.h.cpuS) / 60) * 1000).toFixed(1)} mCPU; bench ${((await procStats(process.pid)).rssKiB / 1024).toFixed(1)} MiB`,
      );
      prev = now;
    }
    figure("agents RSS first → last minute", `${(first.a.rssKiB / 1024).toFixed(1)} → ${(prev.a.rssKiB / 1024).toFixed(1)} MiB (${(((prev.a.rssKiB - first.a.rssKiB) / first.a.rssKiB) * 100).toFixed(1)} %)`);
    figure("hub RSS first → last minute", `${(first.h.rssKiB / 1024).toFixed(1)} → ${(prev.h.rssKiB / 1024).toFixed(1)} MiB`);
  }

  heading(`goals at ${N} clusters`);
  figure(`B1 commit → all applied and reported ≤ ${ms(GOAL_B1_MS)}`, `${b1.map((t) => ms(t)).join(", ")} — ${Math.max(...b1) <= GOAL_B1_MS ? "met" : "NOT met"}`);
  figure("ceiling: the same applies on the API server alone", ceiling.map((t) => ms(t)).join(", "));
  figure("B3 RSS per cluster ≤ 1 MiB (RSS / N)", `${(perClusterMiB * 1024).toFixed(0)} KiB — ${perClusterMiB <= 1 ? "met" : "NOT met"} (${marginalKiB.toFixed(0)} KiB above the empty process)`);
  figure("B3 CPU per cluster ≤ 0.1 mCPU", `${perClusterMcpu.toFixed(3)} mCPU — ${perClusterMcpu <= 0.1 ? "met" : "NOT met"}`);
  const hubRssMax = Math.max(...hubRss.map((r) => r.mib));
  figure("B3 hub RSS ≤ 256 MiB", `${hubRss.map((r) => `${r.when} ${r.mib.toFixed(1)}`).join(", ")} MiB — ${hubRssMax <= 256 ? "met" : "NOT met"}`);
}

const cleanup = new Cleanup();
try {
  await main(cleanup);
} catch (err) {
  console.error(`[bench] fleet: ${(err as Error).stack ?? String(err)}`);
  process.exitCode = 1;
} finally {
  await cleanup.run();
}
process.exit(process.exitCode ?? 0);
