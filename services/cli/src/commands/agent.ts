// `flotilla agent`: runs a cluster agent until SIGINT/SIGTERM.
import { readFileSync } from "node:fs";
import { observeReconciler, startAgent } from "@flotilla/cluster-agent";
import { publicKeyFromPem } from "@flotilla/wire";
import { helpText, parseCommand, requireString, UsageError, type CommandSpec } from "../args.js";
import { byteLimitFlag } from "../byte-limit.js";
import { keepYoungGenerationSmall } from "../young-generation.js";
import { createProcessLogger, LOG_LEVEL_ENV, parseLogLevel } from "../process-logger.js";
import { waitForSignal } from "../signals.js";
import { natsTlsConfigOf, natsTlsFlagSpecs } from "../nats-tls-flags.js";

export const agentCommand: CommandSpec = {
  name: "agent",
  summary: "Run a Flotilla cluster agent: pull this cluster's signed desired state, apply it, watch for drift, report.",
  usage: "flotilla agent --cluster NAME --hub-public-key FILE [flags]",
  flags: [
    { name: "cluster", env: "FLOTILLA_CLUSTER", type: "string", description: "this cluster's name in the fleet file" },
    { name: "hub-public-key", env: "FLOTILLA_HUB_PUBLIC_KEY", type: "string", description: "the hub's ed25519 public key (PEM file)" },
    { name: "kubeconfig", env: "KUBECONFIG", type: "string", description: "kubeconfig file (default: in-cluster config, then ~/.kube/config)" },
    { name: "namespaces", env: "FLOTILLA_NAMESPACES", type: "string", description: "tenant agent: comma-separated namespaces it may apply in" },
    { name: "state-dir", env: "FLOTILLA_STATE_DIR", type: "string", description: "where the last verified bundle and the report spool are kept", default: "/var/lib/flotilla-agent" },
    { name: "nats-url", env: "NATS_URL", type: "string", description: "NATS server URL", default: "nats://127.0.0.1:4222" },
    { name: "nats-user", env: "NATS_USER", type: "string", description: "NATS user (per-agent credentials)" },
    { name: "nats-password", env: "NATS_PASSWORD", type: "string", description: "NATS password" },
    ...natsTlsFlagSpecs,
    { name: "nats-inbox-prefix", env: "FLOTILLA_NATS_INBOX_PREFIX", type: "string", description: "inbox prefix the agent's NATS permissions allow (e.g. _INBOX_<cluster>)" },
    { name: "nats-prefix", env: "FLOTILLA_NATS_PREFIX", type: "string", description: "prefix of NATS buckets, streams and subjects", default: "flotilla" },
    { name: "nats-js-domain", env: "FLOTILLA_NATS_JS_DOMAIN", type: "string", description: "JetStream domain of the hub's NATS, for an agent behind a leaf node ($JS.<domain>.API)" },
    { name: "max-bundle-bytes", env: "FLOTILLA_MAX_BUNDLE_BYTES", type: "string", description: "a bundle larger than this in the object store is refused unread (the last verified bundle keeps running), bytes or KiB/MiB", default: "32MiB" },
    { name: "heartbeat-interval", env: "FLOTILLA_HEARTBEAT_INTERVAL", type: "string", description: "seconds between heartbeats", default: "10" },
    { name: "log-level", env: LOG_LEVEL_ENV, type: "string", description: "fatal, error, warn, info, debug, trace or silent (JSON lines on stderr)", default: "info" },
    { name: "metrics-listen", env: "FLOTILLA_METRICS_LISTEN", type: "string", description: "serve Prometheus metrics on GET /metrics at host:port (default: no metrics)" },
  ],
};

export async function runAgent(argv: string[]): Promise<number> {
  const p = parseCommand(agentCommand, argv);
  if (p.help) {
    console.log(helpText(agentCommand));
    return 0;
  }
  const cluster = requireString(p, agentCommand, "cluster");
  const keyFile = requireString(p, agentCommand, "hub-public-key");
  const maxBundleBytes = byteLimitFlag(p, agentCommand, "max-bundle-bytes");
  const natsTls = natsTlsConfigOf(p);
  const level = parseLogLevel(p.values["log-level"] as string | undefined);
  let hubPublicKey;
  try {
    hubPublicKey = publicKeyFromPem(readFileSync(keyFile, "utf8"));
  } catch (err) {
    throw new UsageError(`--hub-public-key ${keyFile}: not a readable PEM public key (${(err as Error).message})`);
  }
  // Before the first sync: its burst of allocations would grow the young generation for good.
  keepYoungGenerationSmall();
  const log = createProcessLogger({ component: "agent", cluster, level });
  const metricsListen = p.values["metrics-listen"] ? parseListen(String(p.values["metrics-listen"])) : undefined;
  // Before the agent: its spans and reports need the propagator, its counters the meter provider.
  const telemetry = await startAgentTelemetry(metricsListen);
  const namespaces = p.values.namespaces ? String(p.values.namespaces).split(",").map((s) => s.trim()).filter(Boolean) : undefined;
  const agent = await startAgent({
    cluster,
    natsUrl: String(p.values["nats-url"]),
    ...(p.values["nats-user"] ? { natsUser: String(p.values["nats-user"]), natsPassword: String(p.values["nats-password"] ?? "") } : {}),
    ...(natsTls ? { natsTls } : {}),
    ...(p.values["nats-inbox-prefix"] ? { natsInboxPrefix: String(p.values["nats-inbox-prefix"]) } : {}),
    natsPrefix: String(p.values["nats-prefix"]),
    ...(p.values["nats-js-domain"] ? { natsJsDomain: String(p.values["nats-js-domain"]) } : {}),
    hubPublicKey,
    ...(p.values.kubeconfig ? { kubeconfig: String(p.values.kubeconfig) } : {}),
    stateDir: String(p.values["state-dir"]),
    ...(namespaces ? { namespaces } : {}),
    heartbeatIntervalMs: Number(p.values["heartbeat-interval"]) * 1000,
    maxBundleBytes,
    logger: log,
  });
  const unobserve = observeReconciler(cluster, agent.reconciler.counters);
  log.info({ cluster, natsUrl: p.values["nats-url"], ...(metricsListen ? { metrics: `http://${metricsListen.host}:${metricsListen.port}/metrics` } : {}) }, "agent started");
  await waitForSignal();
  unobserve();
  await agent.stop();
  await telemetry.shutdown();
  return 0;
}

/**
 * The OpenTelemetry SDK only when something consumes it (metrics served, or traces exported to
 * an OTLP endpoint): it costs the agent ~20 MB of memory otherwise spent on no-op providers.
 * Without it the agent's spans are no-ops and its reports carry no trace context, as with an
 * SDK that exports nothing.
 */
export async function startAgentTelemetry(
  metricsListen: { host: string; port: number } | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ readonly sdk: boolean; shutdown(): Promise<void> }> {
  const otlp = Boolean(env["OTEL_EXPORTER_OTLP_ENDPOINT"]?.trim() || env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]?.trim());
  if (!metricsListen && !otlp) return { sdk: false, shutdown: async () => undefined };
  // The SDK's module alone: the hub's entry point would also load fastify, pg and PGlite.
  const { startTelemetry } = await import("@flotilla/hub/telemetry");
  const telemetry = await startTelemetry({ serviceName: "flotilla-agent", ...(metricsListen ? { prometheus: metricsListen } : {}) });
  return { sdk: true, shutdown: () => telemetry.shutdown() };
}

/** `host:port` (IPv6 as `[::1]:9464`) → listen address; a bad one is a usage error naming the flag. */
export function parseListen(value: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(value.trim());
  const port = Number(m?.[3]);
  if (!m || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new UsageError(`--metrics-listen ${value}: expected host:port, e.g. 0.0.0.0:9464`);
  }
  return { host: m[1] ?? (m[2] || "0.0.0.0"), port };
}
