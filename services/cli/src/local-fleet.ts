// A whole fleet in one process: the hub and one agent per cluster, each agent pointed at its own
// kube-apiserver. The demo runs the lab on it and the end-to-end tests assert on it; production
// runs the same startHub/startAgent as separate processes (`flotilla hub`, `flotilla agent`).
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { KubeConfig } from "@kubernetes/client-node";
import { startAgent, type Agent, type AgentLogger } from "@flotilla/cluster-agent";
import type { EnvRepoWriterOptions, OpenEnvRepoOptions } from "@flotilla/envrepo";
import { startHub, type Hub } from "@flotilla/hub";
import { generateSigningKey, type SigningKey } from "@flotilla/wire";

export interface LocalCluster {
  name: string;
  kubeconfig: KubeConfig | string;
  namespaces?: string[];
}

export interface LocalFleetOptions {
  /** A local git repository (work tree), read in place by the hub; or give `repo`. */
  repoPath?: string;
  /** The env repo as the hub reads it (e.g. an http(s) remote it can push promotions to). */
  repo?: OpenEnvRepoOptions;
  /** Where the hub pushes promotion commits (default: the env repo itself when writable). */
  promotionWriter?: EnvRepoWriterOptions;
  /** How often the promotion controller ticks (default 2 s). */
  promotionTickMs?: number;
  clusters: LocalCluster[];
  natsUrl: string;
  natsPrefix: string;
  /** Postgres URL; undefined → PGlite in memory. */
  databaseUrl?: string;
  /** Agents keep their verified desired state and report spools here. */
  stateDir: string;
  signingKey?: SigningKey;
  /** The hub polls the repo this often (default 15 s); refresh() triggers it at once. */
  pollIntervalMs?: number;
  heartbeatIntervalMs?: number;
  hubLogger?: boolean | { level: string };
  agentLogger?: (cluster: string) => AgentLogger | undefined;
}

export interface LocalFleet {
  hub: Hub;
  agents: Map<string, Agent>;
  signingKey: SigningKey;
  /** GET a fleet API path and parse the JSON body (throws on a non-2xx status). `headers` carry
   * e.g. `x-flotilla-actor` for break-glass changes. */
  api<T = unknown>(path: string, init?: { method?: string; body?: unknown; headers?: Record<string, string> }): Promise<T>;
  /** Asks the hub to fetch the env repo now; resolves with the revision it resolved. */
  refresh(): Promise<{ revision: string; published: number }>;
  stopAgent(cluster: string): Promise<void>;
  startAgent(cluster: string, agentId?: string): Promise<Agent>;
  stop(): Promise<void>;
}

export async function startLocalFleet(opts: LocalFleetOptions): Promise<LocalFleet> {
  const signingKey = opts.signingKey ?? generateSigningKey();
  const hub = await startHub({
    repo: opts.repo ?? { path: opts.repoPath! },
    ...(opts.promotionWriter ? { promotionWriter: opts.promotionWriter } : {}),
    ...(opts.promotionTickMs ? { promotionTickMs: opts.promotionTickMs } : {}),
    ...(opts.databaseUrl ? { databaseUrl: opts.databaseUrl } : {}),
    natsUrl: opts.natsUrl,
    natsPrefix: opts.natsPrefix,
    signingKey,
    port: 0,
    pollIntervalMs: opts.pollIntervalMs ?? 15_000,
    logger: opts.hubLogger ?? false,
  });
  const agents = new Map<string, Agent>();
  const byName = new Map(opts.clusters.map((c) => [c.name, c]));

  async function startOne(name: string, agentId?: string): Promise<Agent> {
    const c = byName.get(name);
    if (!c) throw new Error(`no cluster ${name} in this local fleet`);
    const stateDir = join(opts.stateDir, name);
    mkdirSync(stateDir, { recursive: true });
    const logger = opts.agentLogger?.(name);
    const agent = await startAgent({
      cluster: name,
      natsUrl: opts.natsUrl,
      natsPrefix: opts.natsPrefix,
      hubPublicKey: signingKey.publicKey,
      kubeconfig: c.kubeconfig,
      stateDir,
      ...(c.namespaces ? { namespaces: c.namespaces } : {}),
      heartbeatIntervalMs: opts.heartbeatIntervalMs ?? 5_000,
      ...(logger ? { logger } : {}),
      ...(agentId ? { agentId } : {}),
    });
    agents.set(name, agent);
    return agent;
  }

  try {
    for (const c of opts.clusters) await startOne(c.name);
  } catch (err) {
    for (const a of agents.values()) await a.stop().catch(() => undefined);
    await hub.stop();
    throw err;
  }

  async function api<T>(path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}): Promise<T> {
    const res = await fetch(new URL(path, hub.url), {
      method: init.method ?? "GET",
      headers: { ...(init.body !== undefined ? { "content-type": "application/json" } : {}), ...init.headers },
      ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${init.method ?? "GET"} ${path}: HTTP ${res.status}: ${text}`);
    return (text ? JSON.parse(text) : undefined) as T;
  }

  return {
    hub,
    agents,
    signingKey,
    api,
    refresh: () => api("/v1/refresh", { method: "POST", body: {} }),
    async stopAgent(name) {
      await agents.get(name)?.stop();
      agents.delete(name);
    },
    startAgent: startOne,
    async stop() {
      for (const a of agents.values()) await a.stop().catch(() => undefined);
      agents.clear();
      await hub.stop();
    },
  };
}
