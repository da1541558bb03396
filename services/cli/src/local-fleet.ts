// A whole fleet in one process: the hub and one agent per cluster, each agent pointed at its own
// kube-apiserver. The demo runs the lab on it and the end-to-end tests assert on it; production
// runs the same startHub/startAgent as separate processes (`flotilla hub`, `flotilla agent`).
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { KubeConfig } from "@kubernetes/client-node";
import { startAgent, type Agent, type AgentLogger } from "@flotilla/cluster-agent";
import type { EnvRepoWriterOptions, OpenEnvRepoOptions } from "@flotilla/envrepo";
import { mintApiToken, Role, startHub, type ApiTokenGrant, type Hub, type HubConfig } from "@flotilla/hub";
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
  /** The hub's process logger (see process-logger.ts); wins over `hubLogger`. */
  hubLoggerInstance?: HubConfig["loggerInstance"];
  /** The people who may call the API; each gets a freshly minted token (default: one admin, "admin"). */
  apiUsers?: ApiTokenGrant[];
  agentLogger?: (cluster: string) => AgentLogger | undefined;
}

export interface LocalFleet {
  hub: Hub;
  agents: Map<string, Agent>;
  signingKey: SigningKey;
  /** Each API user's bearer token, by subject (minted at start, held only in memory). */
  tokens: Map<string, string>;
  /** Calls a fleet API path and parses the JSON body (throws on a non-2xx status), with the token
   * of `as` (default: the first API user). */
  api<T = unknown>(path: string, init?: ApiCallInit): Promise<T>;
  /** Asks the hub to fetch the env repo now; resolves with the revision it resolved. */
  refresh(): Promise<{ revision: string; published: number }>;
  stopAgent(cluster: string): Promise<void>;
  startAgent(cluster: string, agentId?: string): Promise<Agent>;
  stop(): Promise<void>;
}

export interface ApiCallInit {
  method?: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** Whose token to send (a subject of `apiUsers`). */
  as?: string;
}

export const DEFAULT_API_USERS: ApiTokenGrant[] = [{ subject: "admin", roles: [Role.Admin] }];

export async function startLocalFleet(opts: LocalFleetOptions): Promise<LocalFleet> {
  const signingKey = opts.signingKey ?? generateSigningKey();
  const minted = (opts.apiUsers ?? DEFAULT_API_USERS).map(mintApiToken);
  const tokens = new Map(minted.map((m) => [m.entry.subject, m.token]));
  const hub = await startHub({
    auth: { tokens: minted.map((m) => m.entry) },
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
    ...(opts.hubLoggerInstance ? { loggerInstance: opts.hubLoggerInstance } : {}),
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

  const defaultUser = minted[0]!.entry.subject;
  async function api<T>(path: string, init: ApiCallInit = {}): Promise<T> {
    const token = tokens.get(init.as ?? defaultUser);
    if (!token) throw new Error(`no API user "${init.as}" in this local fleet (users: ${[...tokens.keys()].join(", ")})`);
    const res = await fetch(new URL(path, hub.url), {
      method: init.method ?? "GET",
      headers: { authorization: `Bearer ${token}`, ...(init.body !== undefined ? { "content-type": "application/json" } : {}), ...init.headers },
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
    tokens,
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
