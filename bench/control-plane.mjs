// Figures for the test control plane (see docs/test-clusters.md): cold build time of the binaries,
// warm start of a full plane (controllers on), idle memory of the whole plane, time to stop.
//
//   node bench/control-plane.mjs [--runs N] [--nodes N] [--idle SECONDS]
//
// Runs the harness from its TypeScript sources through tsx (no build step needed).
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { tsImport } from "tsx/esm/api";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "2" },
    nodes: { type: "string", default: "2" },
    idle: { type: "string", default: "10" },
  },
});
const runs = Number(values.runs);
const nodes = Number(values.nodes);
const idleSeconds = Number(values.idle);

const kit = await tsImport("../libs/testkit/src/index.ts", import.meta.url);
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;
const figure = (label, value) => console.log(`${label.padEnd(46)} ${value}`);

const binDir = await kit.ensureKubeBinaries();
try {
  const build = JSON.parse(await readFile(join(binDir, "build.json"), "utf8"));
  figure("cold build (build.json)", `${build.seconds} s  (Kubernetes ${build.kubernetes}, etcd ${build.etcd}, kwok ${build.kwok}, ${build.go})`);
} catch {
  figure("cold build (build.json)", `n/a (binaries from ${binDir})`);
}

function rssKiB(pid) {
  return readFile(`/proc/${pid}/status`, "utf8")
    .then((s) => Number(/^VmRSS:\s+(\d+)/m.exec(s)?.[1] ?? 0))
    .catch(() => 0);
}

// utime + stime of each process, in seconds (fields 14 and 15 of /proc/<pid>/stat, in clock ticks).
async function cpuSeconds(pids) {
  let ticks = 0;
  for (const pid of pids) {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    ticks += Number(fields[11] ?? 0) + Number(fields[12] ?? 0);
  }
  return ticks / 100;
}

async function processName(pid) {
  const cmd = await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
  const argv0 = cmd.split("\0")[0] ?? "";
  return cmd.includes("flotilla-plane-watchdog") ? "watchdog (sh)" : argv0.split("/").pop();
}

// Light plane: what a multi-cluster test pays per extra cluster that needs no reconciliation.
{
  const t0 = Date.now();
  const bare = await kit.startControlPlane({ name: "bench-bare", controllers: false });
  figure("warm start, etcd + apiserver only", seconds(Date.now() - t0));
  await bare.stop();
}

let plane;
for (let run = 1; run <= runs; run++) {
  const t0 = Date.now();
  plane = await kit.startControlPlane({ name: `bench-${run}`, controllers: true, nodes });
  const t = plane.timings;
  figure(
    `warm start, full plane, ${nodes} node(s) (run ${run})`,
    `${seconds(Date.now() - t0)}  (apiserver ready ${seconds(t.apiserverReady)}, controllers ${seconds(t.controllersReady)}, nodes ${seconds(t.nodesReady)})`,
  );
  if (run < runs) {
    const s0 = Date.now();
    await plane.stop();
    figure(`stop (run ${run})`, seconds(Date.now() - s0));
  }
}

// A Deployment rolled out end to end: controller-manager → scheduler → kwok.
const ns = await plane.createNamespace("bench");
const deployment = {
  apiVersion: "apps/v1",
  kind: "Deployment",
  metadata: { name: "web", namespace: ns },
  spec: {
    replicas: 3,
    selector: { matchLabels: { app: "web" } },
    template: { metadata: { labels: { app: "web" } }, spec: { containers: [{ name: "web", image: "example/web:1" }] } },
  },
};
const r0 = Date.now();
const path = `/apis/apps/v1/namespaces/${ns}/deployments/web`;
await kit.kubeRequestOk(plane.kubeConfig, {
  method: "PATCH",
  path: `${path}?fieldManager=bench&force=true`,
  body: JSON.stringify(deployment),
  contentType: "application/apply-patch+yaml",
});
await kit.waitFor(
  async () => (await kit.kubeRequest(plane.kubeConfig, { path })).body?.status?.readyReplicas === 3,
  { what: "3 ready replicas", timeoutMs: 60_000, intervalMs: 50 },
);
figure("Deployment (3 replicas) applied → 3 ready", seconds(Date.now() - r0));

// Idle memory and CPU: wait (by the clock — this is a measurement, not a test), then sum VmRSS
// and the CPU time the plane burnt meanwhile.
const cpuBefore = await cpuSeconds(plane.pids());
await sleep(idleSeconds * 1000);
const idleCpu = (await cpuSeconds(plane.pids())) - cpuBefore;
let total = 0;
const parts = [];
for (const pid of plane.pids()) {
  const kib = await rssKiB(pid);
  total += kib;
  parts.push(`${await processName(pid)} ${Math.round(kib / 1024)}`);
}
figure(`idle RSS after ${idleSeconds} s, whole plane`, `${Math.round(total / 1024)} MiB  (${parts.join(", ")} MiB)`);

figure(`idle CPU over ${idleSeconds} s, whole plane`, `${((idleCpu / idleSeconds) * 100).toFixed(0)} % of one core`);

const s0 = Date.now();
await plane.stop();
figure("stop, full plane", seconds(Date.now() - s0));
const left = plane.pids().filter((pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
});
figure("processes left after stop", String(left.length));
