// The agent process: connects the reconciler to NATS (desired state in, reports out) and to its
// cluster's API server. The loop itself is in reconciler.ts.
import { hostname } from "node:os";
import { join } from "node:path";
import type { KeyObject } from "node:crypto";
import type { KubeConfig } from "@kubernetes/client-node";
import type { NatsConnection } from "@nats-io/transport-node";
import { KubeClient, loadKubeCredentials, ResourceManager, type KubeConnection, type KubeCredentials } from "@flotilla/kube";
import { natsTlsOptions, wireNames, type NatsTlsConfig, type WireNames } from "@flotilla/wire";
import { BreakGlassWatch } from "./break-glass.js";
import { connectAgentNats } from "./nats-connection.js";
import { NatsDesiredStateSource } from "./nats-desired-state.js";
import { NatsReporter } from "./nats-reporter.js";
import { Reconciler, type AgentLogger, type ReconcilerOptions } from "./reconciler.js";

export interface AgentConfig {
  cluster: string;
  natsUrl: string;
  natsUser?: string;
  natsPassword?: string;
  natsToken?: string;
  /** TLS of the NATS connection: the CA to trust and a client certificate for mutual TLS
   * (`--nats-ca`, `--nats-cert`, `--nats-key`). A `tls://` natsUrl requires TLS. */
  natsTls?: NatsTlsConfig;
  /** Inbox prefix allowed by the agent's NATS permissions (e.g. `_INBOX_<cluster>`). */
  natsInboxPrefix?: string;
  natsPrefix?: string;
  /** JetStream domain of the hub's NATS, for an agent behind a leaf node (`$JS.<domain>.API`). */
  natsJsDomain?: string;
  /** The hub's public key (ed25519). */
  hubPublicKey: KeyObject;
  /**
   * Kubeconfig file, or credentials already loaded; undefined → in-cluster config when in a pod,
   * else $KUBECONFIG, else ~/.kube/config. Files are read without @kubernetes/client-node (it
   * costs ~75 MB of memory) unless their user needs an exec plugin or auth provider.
   */
  kubeconfig?: string | KubeConfig | KubeConnection;
  /** Where the last verified desired state and the report spool are kept on disk. */
  stateDir: string;
  /** Tenant agent: namespaces it may apply and watch in. Its inventories live in the first. */
  namespaces?: string[];
  heartbeatIntervalMs?: number;
  /** A bundle larger than this in the object store is refused before it is read (default 32 MiB, the hub's default too). */
  maxBundleBytes?: number;
  resyncIntervalMs?: number;
  logger?: AgentLogger;
  /** Agent identity in reports; default `<cluster>/<hostname>/<pid>`. */
  agentId?: string;
  tuning?: Pick<ReconcilerOptions, "fightGuard" | "statusDebounceMs">;
}

export interface Agent {
  cluster: string;
  names: WireNames;
  reconciler: Reconciler;
  reporter: NatsReporter;
  source: NatsDesiredStateSource;
  /** Break-glass windows from the hub-signed control record. */
  breakGlass: BreakGlassWatch;
  client: KubeClient;
  stop(): Promise<void>;
}

/** The agent's API server credentials (see AgentConfig.kubeconfig). */
export function loadKubeConfig(kubeconfig: AgentConfig["kubeconfig"]): Promise<KubeCredentials> {
  return loadKubeCredentials(kubeconfig);
}

export async function startAgent(config: AgentConfig): Promise<Agent> {
  const names = wireNames(config.natsPrefix ?? "flotilla");
  const agentId = config.agentId ?? `${config.cluster}/${hostname()}/${process.pid}`;
  const log = config.logger;
  // Checked before the first connection attempt: the agent retries connecting forever, but a
  // missing key or unreadable CA file never fixes itself.
  const natsTls = natsTlsOptions(config.natsUrl, config.natsTls);
  // One connection for both adapters, created lazily so the agent starts while NATS is away.
  let nc: Promise<NatsConnection> | undefined;
  const connection = () =>
    (nc ??= connectAgentNats({
      servers: config.natsUrl,
      name: `flotilla-agent-${config.cluster}`,
      ...(config.natsUser ? { user: config.natsUser, pass: config.natsPassword } : {}),
      ...(config.natsToken ? { token: config.natsToken } : {}),
      ...(config.natsInboxPrefix ? { inboxPrefix: config.natsInboxPrefix } : {}),
      ...(natsTls ? { tls: natsTls } : {}),
    }).catch((err) => {
      nc = undefined;
      throw err;
    }));
  const onError = (err: unknown, during: string) => log?.warn({ err: (err as Error)?.message ?? String(err), during }, "nats");

  const client = new KubeClient(await loadKubeConfig(config.kubeconfig));
  const manager = new ResourceManager(client, config.namespaces?.length ? { inventoryNamespace: config.namespaces[0]! } : {});
  const jsDomain = config.natsJsDomain ? { jsDomain: config.natsJsDomain } : {};
  const source = new NatsDesiredStateSource({
    connection,
    names,
    cluster: config.cluster,
    publicKey: config.hubPublicKey,
    cacheDir: join(config.stateDir, "desired"),
    ...jsDomain,
    ...(config.maxBundleBytes !== undefined ? { maxBundleBytes: config.maxBundleBytes } : {}),
    onError,
  });
  const reporter = new NatsReporter({ connection, names, cluster: config.cluster, agent: agentId, spoolDir: join(config.stateDir, "spool"), onError });
  // Break-glass: a window that ends or expires makes the reconciler re-check drift at once. The
  // watch starts (and so can call onChange) only once the reconciler below exists.
  const breakGlass = new BreakGlassWatch({
    connection,
    names,
    cluster: config.cluster,
    publicKey: config.hubPublicKey,
    onChange: () => reconciler.recheckDrift(),
    onRefused: (r) => reconciler.reportRefusal(r),
    ...jsDomain,
    onError,
  });
  const reconciler = new Reconciler({
    cluster: config.cluster,
    source,
    reporter,
    client,
    manager,
    breakGlass,
    ...(config.namespaces ? { namespaces: config.namespaces } : {}),
    ...(config.heartbeatIntervalMs ? { heartbeatIntervalMs: config.heartbeatIntervalMs } : {}),
    ...(config.resyncIntervalMs ? { resyncIntervalMs: config.resyncIntervalMs } : {}),
    ...(log ? { logger: log } : {}),
    ...config.tuning,
  });
  breakGlass.start();
  await reconciler.start();
  return {
    cluster: config.cluster,
    names,
    reconciler,
    reporter,
    source,
    breakGlass,
    client,
    async stop() {
      await reconciler.stop();
      // After the source: both close the shared connection when they stop.
      await breakGlass.stop();
      // Deliver what is queued if NATS is there; the spool keeps the rest for the next start.
      await Promise.race([reporter.flush().catch(() => undefined), new Promise((r) => setTimeout(r, 5_000).unref())]);
      await reporter.stop();
      client.close();
      const open = await nc?.catch(() => undefined);
      await open?.close();
    },
  };
}
