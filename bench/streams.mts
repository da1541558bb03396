// The cost of one bundle store (one JetStream stream) per cluster — the price of per-cluster
// bundle confidentiality (docs/nats-security.md) — against the single shared store it replaced,
// on a private nats-server this bench starts (one node with R1 streams, and a 3-node cluster with
// R3 streams: one raft group per stream on every member). For each layout, the same N bundles of
// the same size are stored the way the hub stores them (BundlePublisher for the per-cluster
// layout, 16 at a time like the resolver), then:
// - store time: all N bundles, stores created on first use;
// - nats-server RSS after the stores, over the same server with only the desired-pointer bucket;
// - idle CPU of nats-server over --idle-seconds (raft heartbeats of each stream's group);
// - restart: every member stopped (SIGTERM) and started again → every stream back and the
//   last bundle readable.
//
//   node --conditions=@flotilla/source --import tsx bench/streams.mts
//     [--clusters 1000] [--bundle-kib 24] [--idle-seconds 20] [--layouts r1,r3]
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";
import { Objm } from "@nats-io/obj";
import { BUNDLE_API_VERSION, type Bundle } from "@flotilla/model";
import { BundlePublisher } from "@flotilla/hub";
import { freePorts, spawnNatsServer, type NatsServerProcess } from "@flotilla/testkit";
import { canonicalJson, wireNames } from "@flotilla/wire";
import { Cleanup } from "./lib/cleanup.mts";
import { figure, heading } from "./lib/stats.mts";

const { values } = parseArgs({
  options: {
    clusters: { type: "string", default: "1000" },
    "bundle-kib": { type: "string", default: "24" },
    "idle-seconds": { type: "string", default: "20" },
    layouts: { type: "string", default: "r1,r3" },
  },
});
const N = Number(values.clusters);
const BUNDLE_BYTES = Number(values["bundle-kib"]) * 1024;
const IDLE_S = Number(values["idle-seconds"]);
const CONCURRENCY = 16; // the resolver's DEFAULT_PUBLISH_CONCURRENCY
const PAGE = 4096;
const TICKS = 100; // USER_HZ on Linux

/** `run` over `items`, `limit` at a time (the resolver's bounded publish). */
async function eachWithLimit<T>(items: readonly T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) await run(items[next++]!);
  }));
}

interface Servers {
  urls: string[];
  members: NatsServerProcess[];
  stop(): Promise<void>;
  start(): Promise<void>;
  dispose(): Promise<void>;
}

/** One node (replicas 1) or three (replicas 3) on loopback, each with its own store directory. */
async function startServers(size: 1 | 3): Promise<Servers> {
  const dir = await mkdtemp(join(tmpdir(), "bench-streams-"));
  const ports = await freePorts(2 * size);
  const client = ports.slice(0, size);
  const route = ports.slice(size);
  const routes = route.map((p) => `nats-route://127.0.0.1:${p}`).join(",");
  const args = (i: number) => [
    "-js", "-a", "127.0.0.1", "-p", String(client[i]), "-sd", join(dir, `n${i}`),
    ...(size > 1 ? ["-n", `bench-n${i}`, "--cluster_name", "bench", "--cluster", `nats://127.0.0.1:${route[i]}`, "--routes", routes] : []),
  ];
  const s: Servers = {
    urls: client.map((p) => `nats://127.0.0.1:${p}`),
    members: await Promise.all(client.map((p, i) => spawnNatsServer(args(i), p))),
    async stop() {
      await Promise.all(s.members.map((m) => m.stop()));
    },
    async start() {
      s.members = await Promise.all(client.map((p, i) => spawnNatsServer(args(i), p, 120_000)));
    },
    async dispose() {
      await Promise.all(s.members.map((m) => m.stop()));
      await rm(dir, { recursive: true, force: true });
    },
  };
  return s;
}

async function rssKiB(pids: number[]): Promise<number> {
  let kib = 0;
  for (const pid of pids) kib += Number((await readFile(`/proc/${pid}/statm`, "utf8")).split(" ")[1]) * (PAGE / 1024);
  return kib;
}

async function cpuSeconds(pids: number[]): Promise<number> {
  let ticks = 0;
  for (const pid of pids) {
    const stat = await readFile(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    ticks += Number(fields[11]) + Number(fields[12]); // utime, stime
  }
  return ticks / TICKS;
}

/** A bundle of about BUNDLE_BYTES: ConfigMaps whose data is filler (what matters is the size). */
function bundleOf(cluster: string): Bundle {
  const perObject = 4096;
  const objects = Array.from({ length: Math.max(1, Math.round(BUNDLE_BYTES / perObject)) }, (_, i) => ({
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: `cm-${i}`, namespace: cluster },
    data: { filler: `${cluster}-${i}-`.padEnd(perObject - 120, "x") },
  }));
  return { apiVersion: BUNDLE_API_VERSION, cluster, revision: "0".repeat(40), apps: [{ name: "app", policy: { drift: "enforce", prune: true, ignore: [] }, objects }] } as unknown as Bundle;
}

/** Waits until JetStream answers and lists `streams` streams, then reads `check` back. */
async function backUp(nc: NatsConnection, streams: number, check: () => Promise<unknown>): Promise<void> {
  const deadline = Date.now() + Number(process.env.BENCH_STREAMS_BACK_MS ?? 300_000);
  let why = "";
  for (;;) {
    try {
      const jsm = await jetstreamManager(nc, { timeout: 2_000 });
      let n = 0;
      for await (const _ of jsm.streams.names()) n++;
      if (n >= streams && (await check())) return;
      why = `${n} of ${streams} streams listed`;
    } catch (err) {
      why = (err as Error).message; // not ready yet (no JetStream, no leaders elected)
    }
    if (Date.now() > deadline) throw new Error(`the streams were not back within the bound: ${why}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

interface Result {
  layout: string;
  streams: number;
  storeMs: number;
  rssBaseKiB: number;
  rssKiB: number;
  idleMcpu: number;
  restartMs: number;
  rssAfterRestartKiB: number;
}

async function measure(replicas: 1 | 3, perCluster: boolean, cleanup: Cleanup): Promise<Result> {
  const layout = `${perCluster ? "a store per cluster" : "one shared store"}, R${replicas}`;
  console.error(`[bench] ${layout}: starting ${replicas} nats-server(s)`);
  const servers = await startServers(replicas);
  const disposeServers = cleanup.add(`nats-server(s) of ${layout}`, () => servers.dispose());
  const nc = await connect({ servers: servers.urls, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  // A fresh cluster elects its JetStream meta leader after it listens.
  await backUp(nc, 0, async () => true);
  const names = wireNames("bench");
  const publisher = new BundlePublisher({ nc, names, replicas });
  await publisher.ensureResources();
  const pids = () => servers.members.map((m) => m.pid);
  const rssBaseKiB = await rssKiB(pids());
  const clusters = Array.from({ length: N }, (_, i) => `c${String(i).padStart(4, "0")}`);
  const bundles = clusters.map(bundleOf);
  const digests = new Map<string, string>();

  const t0 = performance.now();
  if (perCluster) {
    await eachWithLimit(bundles, CONCURRENCY, async (b) => void digests.set(b.cluster, await publisher.publishBundle(b)));
  } else {
    const shared = await new Objm(nc).create(names.bundleStore, { replicas });
    await eachWithLimit(bundles, CONCURRENCY, async (b) => {
      await shared.putBlob({ name: b.cluster }, new TextEncoder().encode(canonicalJson(b)));
    });
  }
  const storeMs = performance.now() - t0;
  const rss = await rssKiB(pids());

  const c0 = await cpuSeconds(pids());
  const w0 = performance.now();
  await new Promise((r) => setTimeout(r, IDLE_S * 1000));
  const idleMcpu = ((await cpuSeconds(pids())) - c0) / ((performance.now() - w0) / 1000) * 1000;

  const last = clusters.at(-1)!;
  const readLast = (c: NatsConnection) =>
    perCluster
      ? async () => (await new BundlePublisher({ nc: c, names }).readBundle({ cluster: last, bundleDigest: digests.get(last)! }))?.cluster === last
      : async () => ((await (await new Objm(c).open(names.bundleStore)).getBlob(last))?.length ?? 0) > 0;
  await nc.close();
  // Restart: from the new processes' spawn, with a new connection (no client reconnect back-off
  // in the figure), until every stream is listed and the last bundle reads back.
  await servers.stop();
  const r0 = performance.now();
  await servers.start();
  const again = await connect({ servers: servers.urls, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
  await backUp(again, (perCluster ? N : 1) + 1, readLast(again));
  const restartMs = performance.now() - r0;
  const rssAfterRestartKiB = await rssKiB(pids());
  await again.close();
  await disposeServers();
  return { layout, streams: (perCluster ? N : 1) + 1, storeMs, rssBaseKiB, rssKiB: rss, idleMcpu, restartMs, rssAfterRestartKiB };
}

const cleanup = new Cleanup();
try {
  heading(`bundle stores: ${N} clusters, bundles of ${values["bundle-kib"]} KiB, nats-server ${IDLE_S} s idle`);
  const results: Result[] = [];
  for (const layout of String(values.layouts).split(",")) {
    const replicas = layout.trim() === "r3" ? 3 : 1;
    for (const perCluster of [true, false]) results.push(await measure(replicas, perCluster, cleanup));
  }
  const mib = (kib: number) => `${(kib / 1024).toFixed(1)} MiB`;
  for (const r of results) {
    heading(r.layout);
    figure("streams (with the desired bucket)", String(r.streams));
    figure(`store ${N} bundles`, `${Math.round(r.storeMs)} ms`);
    figure("nats-server RSS (sum of members)", `${mib(r.rssKiB)} (${mib(r.rssKiB - r.rssBaseKiB)} above the bucket alone, ${((r.rssKiB - r.rssBaseKiB) / N).toFixed(0)} KiB per cluster)`);
    figure("nats-server idle CPU", `${r.idleMcpu.toFixed(1)} mCPU (${(r.idleMcpu / N).toFixed(3)} per cluster)`);
    figure("restart → every stream back, last bundle read", `${Math.round(r.restartMs)} ms (RSS then ${mib(r.rssAfterRestartKiB)})`);
  }
} finally {
  await cleanup.run();
}
