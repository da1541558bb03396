// The agents process of bench/fleet.mts: N namespace-scoped cluster agents (startAgent, the real
// agent) in one process, each with its own cluster identity, kubeconfig (a ServiceAccount token
// bound to its namespace only) and state directory. Only agents live here, so this process's RSS
// and CPU divided by N is the cost of one simulated cluster.
//
//   node --conditions=@flotilla/source --import tsx bench/lib/fleet-agents.mts <config.json>
import { createPublicKey } from "node:crypto";
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { startAgent, type Agent } from "@flotilla/cluster-agent";

export interface FleetAgentsConfig {
  natsUrl: string;
  natsPrefix: string;
  hubPublicKeyPem: string;
  stateDir: string;
  /** Agents started at once. */
  startConcurrency: number;
  clusters: { name: string; namespace: string; kubeconfigPath: string }[];
}

/** `baselineRssKiB`: this process before any agent started (node, tsx and the loaded code). */
export type FromAgents = { started: true; ms: number; baselineRssKiB: number } | { failed: string };

const config = JSON.parse(await readFile(process.argv[2]!, "utf8")) as FleetAgentsConfig;
const hubPublicKey = createPublicKey(config.hubPublicKeyPem);
const agents: Agent[] = [];
const send = (m: FromAgents) => process.send?.(m);
const warnings = new Map<string, number>();
const logger = {
  info() {},
  warn(_obj: object, msg: string) {
    warnings.set(msg, (warnings.get(msg) ?? 0) + 1);
  },
  error(obj: object, msg: string) {
    console.error(`[agents] ${msg} ${JSON.stringify(obj).slice(0, 300)}`);
  },
};

const baselineRssKiB = Math.round(process.memoryUsage().rss / 1024);
const t0 = performance.now();
try {
  let next = 0;
  await Promise.all(
    Array.from({ length: config.startConcurrency }, async () => {
      while (next < config.clusters.length) {
        const c = config.clusters[next++]!;
        agents.push(
          await startAgent({
            cluster: c.name,
            natsUrl: config.natsUrl,
            natsPrefix: config.natsPrefix,
            hubPublicKey,
            kubeconfig: c.kubeconfigPath,
            stateDir: join(config.stateDir, c.name),
            namespaces: [c.namespace],
            agentId: `${c.name}/bench-fleet/${process.pid}`,
            logger,
          }),
        );
      }
    }),
  );
  send({ started: true, ms: performance.now() - t0, baselineRssKiB });
} catch (err) {
  send({ failed: (err as Error).stack ?? String(err) });
}

const stop = async () => {
  await Promise.allSettled(agents.map((a) => a.stop()));
  if (warnings.size) console.error(`[agents] warnings: ${JSON.stringify(Object.fromEntries(warnings))}`);
  process.exit(0);
};
process.on("SIGTERM", () => void stop());
process.on("message", (m: { stop?: true }) => m.stop && void stop());
process.on("disconnect", () => void stop());
