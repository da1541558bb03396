// Writes a fleet's NATS files into one directory, all mode 0600:
//   nats-server.conf      the server configuration (generateNatsConfig)
//   credentials.json      every user's password; kept across regenerations, so adding a cluster
//                         rotates nobody's password and a reload leaves other agents connected
//   hub.env               NATS_USER / NATS_PASSWORD for `flotilla hub`
//   agent-<cluster>.env   NATS_USER / NATS_PASSWORD / FLOTILLA_NATS_INBOX_PREFIX /
//                         FLOTILLA_NATS_PREFIX (and FLOTILLA_NATS_JS_DOMAIN with a JetStream
//                         domain) for `flotilla agent` (an env file or a Secret)
//   (both env files get NATS_CA with natsCaFile: the CA of a TLS client port)
//   leaf-<cluster>.env    FLOTILLA_LEAF_URL, with a leaf URL: the hub's leafnodes address with
//                         the agent's user and password, for the leaf node of a remote cluster
//                         (deploy/nats/leaf-remote reads it from Secret flotilla-nats-leaf)
// A cluster no longer listed loses its user and its env files: after the reload it cannot connect.
import { readFile, readdir, rename, rm, writeFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import type { WireNames } from "@flotilla/wire";
import { agentInboxPrefix, agentNatsUser, generateNatsConfig, generateNatsPassword } from "./nats-auth.js";

export const NATS_CONFIG_FILE = "nats-server.conf";
export const NATS_CREDENTIALS_FILE = "credentials.json";

export interface FleetNatsFilesOptions {
  dir: string;
  names: WireNames;
  /** Cluster names of the fleet (from the fleet file). */
  clusters: readonly string[];
  /** NATS user of the hub; default `hub`. */
  hubUser?: string;
  listen?: string;
  jetstreamDir?: string;
  /** JetStream domain of the hub's NATS (for agents behind leaf nodes), see generateNatsConfig. */
  jsDomain?: string;
  /**
   * Where the leaf nodes of remote clusters reach the hub's NATS leafnodes port, e.g.
   * `tls://leaf.nats.example.com:7422` (see leafRemoteUrl): writes leaf-<cluster>.env per cluster.
   */
  leafUrl?: string;
  /**
   * Path of the CA file (PEM) that signed the NATS server's client-port certificate, as the hub
   * and the agents see it (e.g. a mounted Secret): written as NATS_CA in hub.env and every
   * agent-<cluster>.env. A path, not the certificate, so a rotated CA needs no new env files.
   */
  natsCaFile?: string;
}

export interface AgentNatsCredentials {
  user: string;
  password: string;
  inboxPrefix: string;
  /** The env file for `flotilla agent`. */
  envPath: string;
  /** With a leaf URL: the env file of the cluster's leaf node (FLOTILLA_LEAF_URL). */
  leafEnvPath?: string;
}

export interface FleetNatsFiles {
  configPath: string;
  credentialsPath: string;
  hub: { user: string; password: string; envPath: string };
  agents: Record<string, AgentNatsCredentials>;
  /** Clusters that got a new user in this run. */
  added: string[];
  /** Clusters whose user was removed in this run. */
  removed: string[];
}

interface StoredCredentials {
  hub: { user: string; password: string };
  agents: Record<string, { user: string; password: string }>;
}

export async function writeFleetNatsFiles(opts: FleetNatsFilesOptions): Promise<FleetNatsFiles> {
  await mkdir(opts.dir, { recursive: true, mode: 0o700 });
  const credentialsPath = join(opts.dir, NATS_CREDENTIALS_FILE);
  const stored = await readStored(credentialsPath);
  const hubUser = opts.hubUser ?? stored?.hub.user ?? "hub";
  const hub = stored && stored.hub.user === hubUser ? stored.hub : { user: hubUser, password: generateNatsPassword() };

  const agents: StoredCredentials["agents"] = {};
  const added: string[] = [];
  for (const cluster of opts.clusters) {
    const previous = stored?.agents[cluster];
    if (previous) agents[cluster] = previous;
    else {
      agents[cluster] = { user: agentNatsUser(cluster), password: generateNatsPassword() };
      added.push(cluster);
    }
  }
  const removed = Object.keys(stored?.agents ?? {}).filter((c) => !(c in agents));
  // Checked before anything is written, like the config below.
  const leafUrls = opts.leafUrl === undefined ? undefined : Object.fromEntries(Object.entries(agents).map(([c, a]) => [c, leafRemoteUrl(opts.leafUrl!, a.user, a.password)]));

  // Generate first: a bad cluster name fails before anything is written.
  const config = generateNatsConfig({
    names: opts.names,
    hub,
    clusters: Object.entries(agents).map(([name, c]) => ({ name, user: c.user, password: c.password })),
    ...(opts.listen ? { listen: opts.listen } : {}),
    ...(opts.jetstreamDir ? { jetstreamDir: opts.jetstreamDir } : {}),
    ...(opts.jsDomain !== undefined ? { jsDomain: opts.jsDomain } : {}),
  });

  await writeSecret(credentialsPath, `${JSON.stringify({ hub, agents } satisfies StoredCredentials, null, 2)}\n`);
  const hubEnvPath = join(opts.dir, "hub.env");
  const natsCa: Record<string, string> = opts.natsCaFile ? { NATS_CA: opts.natsCaFile } : {};
  await writeSecret(hubEnvPath, envFile({ NATS_USER: hub.user, NATS_PASSWORD: hub.password, FLOTILLA_NATS_PREFIX: opts.names.prefix, ...natsCa }));
  const result: FleetNatsFiles = {
    configPath: join(opts.dir, NATS_CONFIG_FILE),
    credentialsPath,
    hub: { ...hub, envPath: hubEnvPath },
    agents: {},
    added,
    removed,
  };
  for (const [cluster, c] of Object.entries(agents)) {
    const envPath = join(opts.dir, `agent-${cluster}.env`);
    const inboxPrefix = agentInboxPrefix(cluster);
    await writeSecret(
      envPath,
      envFile({
        NATS_USER: c.user,
        NATS_PASSWORD: c.password,
        FLOTILLA_NATS_INBOX_PREFIX: inboxPrefix,
        FLOTILLA_NATS_PREFIX: opts.names.prefix,
        // The domain-prefixed API answers on the hub's servers too, so every agent may use it.
        ...(opts.jsDomain !== undefined ? { FLOTILLA_NATS_JS_DOMAIN: opts.jsDomain } : {}),
        ...natsCa,
      }),
    );
    result.agents[cluster] = { ...c, inboxPrefix, envPath };
    if (leafUrls) {
      const leafEnvPath = join(opts.dir, `leaf-${cluster}.env`);
      await writeSecret(leafEnvPath, envFile({ FLOTILLA_LEAF_URL: leafUrls[cluster]! }));
      result.agents[cluster].leafEnvPath = leafEnvPath;
    }
  }
  // Env files of clusters that left the fleet (also ones a lost credentials file forgot).
  for (const file of await readdir(opts.dir)) {
    const m = /^(?:agent|leaf)-(.+)\.env$/.exec(file);
    if (m && !(m[1]! in agents)) await rm(join(opts.dir, file), { force: true });
  }
  // The config last: a server reloaded meanwhile sees either the old file or the new, whole.
  await writeSecret(result.configPath, config);
  return result;
}

/** Schemes nats-server 2.9 accepts in a leaf node remote's url. */
const LEAF_SCHEMES = new Set(["nats:", "tls:", "ws:", "wss:"]);

/**
 * The url a cluster's leaf node connects to the hub with: `leafUrl` (scheme, host and port of the
 * hub's leafnodes listener as the remote cluster reaches it) with the agent's user and password,
 * so the leaf connection has exactly that agent's permissions.
 */
export function leafRemoteUrl(leafUrl: string, user: string, password: string): string {
  let u: URL;
  try {
    u = new URL(leafUrl);
  } catch {
    throw new Error(`NATS leaf URL "${leafUrl}" is not a URL; give the hub's leafnodes address, e.g. tls://leaf.nats.example.com:7422`);
  }
  if (!LEAF_SCHEMES.has(u.protocol)) throw new Error(`NATS leaf URL "${leafUrl}": the scheme must be one of ${[...LEAF_SCHEMES].map((s) => s.slice(0, -1)).join(", ")}`);
  if (u.username || u.password) throw new Error(`NATS leaf URL "${leafUrl}" must not carry credentials: each cluster's leaf gets its agent's user and password`);
  if (!u.host || (u.pathname !== "" && u.pathname !== "/") || u.search || u.hash) throw new Error(`NATS leaf URL "${leafUrl}" must be scheme://host:port and nothing else`);
  return `${u.protocol}//${encodeURIComponent(user)}:${encodeURIComponent(password)}@${u.host}`;
}

/**
 * Makes a running nats-server re-read its configuration (what `nats-server --signal reload=<pid>`
 * does). Users added can connect afterwards; connections of removed users are closed.
 */
export function reloadNatsServer(pid: number): void {
  process.kill(pid, "SIGHUP");
}

async function readStored(path: string): Promise<StoredCredentials | undefined> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`${path} is not JSON (${(err as Error).message}); fix it or delete it to generate new passwords for every user`);
  }
  const s = parsed as Partial<StoredCredentials>;
  const isCred = (v: unknown): v is { user: string; password: string } =>
    !!v && typeof (v as { user?: unknown }).user === "string" && typeof (v as { password?: unknown }).password === "string";
  if (!isCred(s.hub) || typeof s.agents !== "object" || s.agents === null || !Object.values(s.agents).every(isCred)) {
    throw new Error(`${path} must hold {"hub":{"user","password"},"agents":{"<cluster>":{"user","password"}}}; fix it or delete it to generate new passwords for every user`);
  }
  return s as StoredCredentials;
}

/** Written to a temporary file with mode 0600 and renamed into place: never readable by others, never half-written. */
async function writeSecret(path: string, content: string): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, content, { mode: 0o600 });
  await rename(tmp, path);
}

/** Values are base64url passwords and subject tokens: nothing to quote. */
const envFile = (vars: Record<string, string>): string =>
  Object.entries(vars)
    .map(([k, v]) => `${k}=${v}\n`)
    .join("");
