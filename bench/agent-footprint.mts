// Agent footprint (docs/benchmarks.md): one agent in its own process managing 500 objects
// (250 ConfigMaps + 250 headless Services in 5 namespaces, plus the 5 Namespaces; headless because
// the test plane's service IP range holds ~250 addresses), applied once, then
// idle: resident memory (VmRSS) and CPU (utime + stime, % of one core) of the agent's process.
//
//   node --conditions=@flotilla/source --import tsx bench/agent-footprint.mts [flags]
//
//   --objects N       objects per agent, half ConfigMaps, half Services (default 500)
//   --idle SECONDS    idle sampling window (default 60)
//   --no-build        do not build the JS (`npx turbo run build --filter=flotilla...`) for the
//                     second measurement; use services/cli/dist/main.js if it is there
//   --only tsx|js     measure one way of running the agent
//
// Two runs, each a fresh cluster of the same fleet with its own objects: the agent from its
// TypeScript sources through tsx (what `npm run demo` does; tsx's transpiler and source maps
// stay resident), and the agent built to JS (`node services/cli/dist/main.js agent`, what a
// container runs). The hub runs in this process; only the agent's pid is measured.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createWriteStream, existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { createWorkRepo } from "@flotilla/envrepo/testing";
import { createTestDatabase, createTestNats, startControlPlane, type ControlPlane } from "@flotilla/testkit";
import { startLocalFleet, type LocalFleet } from "../services/cli/src/local-fleet.ts";
import { Cleanup } from "./lib/cleanup.mts";
import { waitSynced } from "./lib/fleet-views.mts";
import { fleetYaml, namespaceYaml } from "./lib/lab.mts";
import { figure, heading, ms } from "./lib/stats.mts";

const { values } = parseArgs({
  options: {
    objects: { type: "string", default: "500" },
    idle: { type: "string", default: "60" },
    "no-build": { type: "boolean", default: false },
    only: { type: "string" },
  },
});
const OBJECTS = Number(values.objects);
const IDLE_S = Number(values.idle);
const NAMESPACES = 5;
const GOAL_RSS_MB = 80;
const GOAL_CPU_PCT = 1;

const root = join(import.meta.dirname, "..");
const distMain = join(root, "services/cli/dist/main.js");
const cleanup = new Cleanup();
const rand = randomBytes(3).toString("hex");
let failed = false;

/** One multi-document file per namespace: ConfigMaps and Services, half each. */
function appFiles(app: string, prefix: string): Record<string, string> {
  const files: Record<string, string> = {};
  const perNs = Math.ceil(OBJECTS / NAMESPACES);
  let left = OBJECTS;
  for (let n = 0; n < NAMESPACES && left > 0; n++) {
    const ns = `${prefix}-${n}`;
    files[`apps/${app}/00-${ns}.yaml`] = namespaceYaml(ns);
    const docs: string[] = [];
    for (let i = 0; i < perNs && left > 0; i++, left--) {
      docs.push(
        i % 2 === 0
          ? `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings-${i}\n  namespace: ${ns}\ndata:\n  LOG_LEVEL: info\n  FEATURE_FLAGS: "a,b,c"\n  INDEX: "${i}"\n`
          : `apiVersion: v1\nkind: Service\nmetadata:\n  name: svc-${i}\n  namespace: ${ns}\nspec:\n  clusterIP: None\n  selector:\n    app: svc-${i}\n  ports:\n    - name: http\n      port: 80\n      targetPort: 8080\n`,
      );
    }
    files[`apps/${app}/10-${ns}-objects.yaml`] = docs.join("---\n");
  }
  return files;
}

interface ProcSample {
  rssKiB: number;
  hwmKiB: number;
  cpuTicks: number;
}

async function sample(pid: number): Promise<ProcSample> {
  const status = await readFile(`/proc/${pid}/status`, "utf8");
  const stat = await readFile(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return {
    rssKiB: Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? 0),
    hwmKiB: Number(/^VmHWM:\s+(\d+)/m.exec(status)?.[1] ?? 0),
    // utime and stime are fields 14 and 15 of /proc/<pid>/stat, in clock ticks (100 per second).
    cpuTicks: Number(fields[11] ?? 0) + Number(fields[12] ?? 0),
  };
}

const mb = (kib: number) => `${(kib / 1024).toFixed(1)} MB`;

/**
 * RSS of a fresh node process after importing `specifier` and nothing else (from services/cli, so
 * the workspace's resolution applies): how much of the agent's RSS is loaded code, not data.
 */
function importFloorMb(specifier: string | undefined, tsx: boolean): string {
  const code = `${specifier ? `await import(${JSON.stringify(specifier)});` : ""} globalThis.gc?.(); const s = (await import("node:fs")).readFileSync("/proc/self/status", "utf8"); console.log(/VmRSS:\\s+(\\d+)/.exec(s)[1]);`;
  const flags = tsx ? ["--conditions=@flotilla/source", "--import", "tsx"] : [];
  const r = spawnSync(process.execPath, [...flags, "--expose-gc", "--input-type=module", "-e", code], { cwd: join(root, "services/cli"), encoding: "utf8" });
  const kib = Number(r.stdout.trim().split("\n").pop());
  return r.status === 0 && kib > 0 ? mb(kib) : `n/a (${r.stderr.split("\n")[0]})`;
}

function importFloors(tsx: boolean): void {
  // What `flotilla agent` loads: the command module and everything it imports.
  const agentCommand = tsx ? "./src/commands/agent.ts" : "./dist/commands/agent.js";
  figure(
    "RSS of a process that only imports… (module floor)",
    `nothing ${importFloorMb(undefined, tsx)}; @kubernetes/client-node ${importFloorMb("@kubernetes/client-node", tsx)}; @nats-io/transport-node ${importFloorMb("@nats-io/transport-node", tsx)}; @flotilla/cluster-agent ${importFloorMb("@flotilla/cluster-agent", tsx)}; @flotilla/hub ${importFloorMb("@flotilla/hub", tsx)}; the agent command (${agentCommand}) ${importFloorMb(agentCommand, tsx)}`,
  );
}

function buildJs(): string | undefined {
  if (values["no-build"]) return existsSync(distMain) ? undefined : "no services/cli/dist/main.js and --no-build given";
  const t0 = performance.now();
  const r = spawnSync("npx", ["turbo", "run", "build", "--filter=flotilla...", "--output-logs=errors-only"], { cwd: root, encoding: "utf8" });
  const errors = (r.stdout + r.stderr).split("\n").filter((l) => /error TS|ERROR/.test(l)).slice(0, 3).join(" | ");
  if (!existsSync(distMain)) return `the build produced no services/cli/dist/main.js: ${errors}`;
  // tsc emits despite type errors (often someone's work in progress): measure, but say so.
  if (r.status !== 0) figure("WARNING: the build reported errors (JS emitted anyway)", errors.slice(0, 300));
  figure("build of the JS (turbo, cached when up to date)", ms(performance.now() - t0));
  return undefined;
}

async function measure(plane: ControlPlane, fleet: LocalFleet, revision: string, cluster: string, runtime: "tsx" | "js", stateDir: string, keyFile: string, natsUrl: string, natsPrefix: string): Promise<void> {
  heading(`agent footprint, ${runtime === "tsx" ? "TypeScript sources through tsx" : "built JS (services/cli/dist/main.js)"}: ${OBJECTS} objects, idle ${IDLE_S} s`);
  const entry = runtime === "tsx" ? ["--conditions=@flotilla/source", "--import", "tsx", join(root, "services/cli/src/main.ts")] : [distMain];
  const args = [
    ...entry,
    "agent",
    "--cluster", cluster,
    "--hub-public-key", keyFile,
    "--kubeconfig", plane.kubeconfigPath,
    "--nats-url", natsUrl,
    "--nats-prefix", natsPrefix,
    "--state-dir", join(stateDir, cluster),
  ];
  const logPath = join(stateDir, `${cluster}.log`);
  const log = createWriteStream(logPath);
  const t0 = performance.now();
  const child: ChildProcess = spawn(process.execPath, args, { cwd: root, stdio: ["ignore", "pipe", "pipe"] });
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
  const stopChild = cleanup.add(`agent process ${cluster}`, async () => {
    if (child.exitCode === null) child.kill("SIGTERM");
    const gone = await Promise.race([exited.then(() => true), sleep(10_000).then(() => false)]);
    if (!gone) child.kill("SIGKILL");
  });
  const pid = child.pid!;
  let early: number | null | undefined;
  void exited.then((c) => (early = c));

  try {
    await waitSynced((p) => fleet.api(p), cluster, revision, OBJECTS + NAMESPACES, 180_000);
  } catch (err) {
    failed = true;
    const tail = (await readFile(logPath, "utf8").catch(() => "")).split("\n").slice(-10).join("\n");
    const render = await fleet.api<{ latest: unknown }>("/v1/render-failures").catch((e: Error) => ({ latest: e.message }));
    figure("PROBLEM", `${(err as Error).message}${early !== undefined ? ` (agent exited with ${early})` : ""}`);
    figure("  render failures", JSON.stringify(render.latest).slice(0, 2000));
    figure("  agent log tail", `\n${tail}`);
    await stopChild();
    return;
  }
  const synced = await sample(pid);
  figure("agent start → Synced with every object (API)", `${ms(performance.now() - t0)}  (CPU ${(synced.cpuTicks / 100).toFixed(1)} s, peak RSS ${mb(synced.hwmKiB)})`);

  // Idle: the clock is the measurement here, not a wait for a condition.
  const before = await sample(pid);
  const idleStart = performance.now();
  const rss: number[] = [];
  while (performance.now() - idleStart < IDLE_S * 1000) {
    await sleep(Math.min(5_000, IDLE_S * 1000 - (performance.now() - idleStart)));
    rss.push((await sample(pid)).rssKiB);
  }
  const after = await sample(pid);
  const idleS = (performance.now() - idleStart) / 1000;
  const cpuPct = ((after.cpuTicks - before.cpuTicks) / 100 / idleS) * 100;
  const rssEnd = after.rssKiB;
  figure(`idle RSS (end of ${IDLE_S} s; min–max of samples)`, `${mb(rssEnd)}  (${mb(Math.min(...rss))}–${mb(Math.max(...rss))}; peak since start ${mb(after.hwmKiB)})`);
  figure(`idle CPU over ${idleS.toFixed(0)} s`, `${cpuPct.toFixed(2)} % of one core  (${((after.cpuTicks - before.cpuTicks) / 100).toFixed(2)} s)`);
  figure(`goals: RSS ≤ ${GOAL_RSS_MB} MB, CPU ≤ ${GOAL_CPU_PCT} %`, `RSS ${rssEnd / 1024 <= GOAL_RSS_MB ? "met" : "NOT met"}, CPU ${cpuPct <= GOAL_CPU_PCT ? "met" : "NOT met"}`);
  const detail = await fleet.api<{ syncState: string }>(`/v1/clusters/${cluster}`);
  figure("still Synced after idle", detail.syncState === "Synced" ? "yes" : `no: ${detail.syncState}`);
  await stopChild();
  importFloors(runtime === "tsx");
}

try {
  const t0 = performance.now();
  // etcd + apiserver are enough: ConfigMaps, Services and Namespaces need no controller.
  const plane = await startControlPlane({ name: "bench-footprint", controllers: false });
  cleanup.add("control plane", () => plane.stop());
  figure("control plane start (etcd + apiserver)", ms(performance.now() - t0));

  const runs: ("tsx" | "js")[] = values.only ? [values.only as "tsx" | "js"] : ["tsx", "js"];
  let buildProblem: string | undefined;
  if (runs.includes("js")) buildProblem = buildJs();

  const nats = createTestNats("benchfootprint");
  cleanup.add(`NATS streams of ${nats.prefix}`, () => nats.cleanup());
  const database = await createTestDatabase("benchfootprint");
  cleanup.add(`database ${database.name}`, () => database.drop());
  const repoDir = await mkdtemp(join(tmpdir(), "flotilla-bench-footprint-repo-"));
  const stateDir = await mkdtemp(join(tmpdir(), "flotilla-bench-footprint-state-"));
  cleanup.add("temp dirs", async () => {
    await rm(repoDir, { recursive: true, force: true });
    await rm(stateDir, { recursive: true, force: true });
  });
  const files: Record<string, string> = {};
  for (const r of runs) Object.assign(files, appFiles(`fp-${r}`, `fp-${r}-${rand}`));
  files["flotilla.yaml"] = fleetYaml(runs.map((r) => ({ cluster: `fp-${r}`, app: `fp-${r}`, path: `apps/fp-${r}` })));
  const revision = await createWorkRepo(repoDir, files);
  const fleet = await startLocalFleet({ repoPath: repoDir, clusters: [], natsUrl: nats.url, natsPrefix: nats.prefix, databaseUrl: database.url, stateDir, pollIntervalMs: 3_600_000 });
  cleanup.add("hub", () => fleet.stop());
  const keyFile = join(stateDir, "hub-public.pem");
  await writeFile(keyFile, fleet.signingKey.publicKey.export({ type: "spki", format: "pem" }).toString());

  for (const r of runs) {
    if (r === "js" && buildProblem) {
      heading("agent footprint, built JS");
      figure("built JS", `n/a: ${buildProblem}`);
      failed = true;
      continue;
    }
    await measure(plane, fleet, revision, `fp-${r}`, r, stateDir, keyFile, nats.url, nats.prefix);
  }
} catch (err) {
  console.error(`[bench] agent-footprint: ${(err as Error).stack ?? err}`);
  failed = true;
} finally {
  await cleanup.run();
}
process.exit(failed ? 1 : 0);
