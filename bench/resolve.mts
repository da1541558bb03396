// The hub's resolve loop at fleet scale, on the real NATS JetStream: a generated env repo of N
// clusters (one app each) resolved by the hub's resolver (fetch → render → store bundles → sign
// and publish pointers), once with clusters published one after another and once with the
// default bounded concurrency; then a commit that changes every cluster's bundle.
//
//   node --conditions=@flotilla/source --import tsx bench/resolve.mts [--clusters 1000]
//
// Goal (issue 11, B1's render + publish share): 1,000 clusters resolved well inside 20 s.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { connect } from "@nats-io/transport-node";
import { openEnvRepo } from "@flotilla/envrepo";
import { commitFiles, createWorkRepo } from "@flotilla/envrepo/testing";
import { BundlePublisher, createResolver, type ResolverSink } from "@flotilla/hub";
import { createTestNats } from "@flotilla/testkit";
import { generateSigningKey, wireNames } from "@flotilla/wire";
import { Cleanup } from "./lib/cleanup.mts";
import { deploymentYaml, fleetYaml, namespaceYaml } from "./lib/lab.mts";

const { values } = parseArgs({ options: { clusters: { type: "string", default: "1000" } } });
const N = Number(values.clusters);

function files(replicas: number): Record<string, string> {
  const entries = Array.from({ length: N }, (_, i) => ({ cluster: `c-${String(i).padStart(4, "0")}`, app: `app-${i}`, path: `apps/app-${i}` }));
  const out: Record<string, string> = { "flotilla.yaml": fleetYaml(entries) };
  for (const e of entries) out[`${e.path}/all.yaml`] = `${namespaceYaml(e.app)}---\n${deploymentYaml(e.app, "web", replicas)}`;
  return out;
}

async function run(concurrency: number, cleanup: Cleanup): Promise<void> {
  const nats = createTestNats("bench-resolve");
  cleanup.add("nats streams", () => nats.cleanup());
  const nc = await connect({ servers: nats.url });
  cleanup.add("nats connection", () => nc.close());
  const dir = await mkdtemp(join(tmpdir(), "bench-resolve-"));
  cleanup.add("env repo", () => rm(dir, { recursive: true, force: true }));
  await createWorkRepo(dir, files(1));

  let pointers = 0;
  const sink: ResolverSink = { onClusters: async () => {}, onPublished: async () => void pointers++, onRenderFailed: async () => {}, onRenderSucceeded: async () => {} };
  const generations = new Map<string, number>();
  const resolver = createResolver({
    repo: openEnvRepo({ path: dir }),
    publisher: new BundlePublisher({ nc, names: wireNames(nats.prefix) }),
    signingKey: generateSigningKey(),
    sink,
    publishConcurrency: concurrency,
    nextGeneration: async (c) => {
      const g = (generations.get(c) ?? 0) + 1;
      generations.set(c, g);
      return g;
    },
  });

  let started = performance.now();
  const first = await resolver.refresh();
  const cold = performance.now() - started;
  if (first.failed || first.published !== N) throw new Error(`cold resolve: ${JSON.stringify(first).slice(0, 400)}`);

  await commitFiles(dir, files(2), "every cluster scales to 2");
  started = performance.now();
  const second = await resolver.refresh();
  const change = performance.now() - started;
  if (second.failed || second.published !== N) throw new Error(`change resolve: ${JSON.stringify(second).slice(0, 400)}`);
  console.log(
    `publish concurrency ${String(concurrency).padStart(2)}: cold resolve of ${N} clusters ${Math.round(cold)} ms, ` +
      `a commit changing all ${N} bundles ${Math.round(change)} ms (${pointers} pointers to the sink)`,
  );
}

console.log(`bench/resolve: ${N} clusters, one app each, real NATS at ${process.env.NATS_URL ?? "127.0.0.1:4222"}`);
for (const concurrency of [1, 16]) {
  const cleanup = new Cleanup();
  try {
    await run(concurrency, cleanup);
  } finally {
    await cleanup.run();
  }
}
