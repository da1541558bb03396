// `flotilla hub`: runs the hub (resolver, ingest, fleet API) until SIGINT/SIGTERM.
import { startHub, loadSigningKey, openApiTokensFile, apiTokensFromEnv, API_TOKENS_ENV, INSECURE_NO_AUTH_WARNING, type ApiAuth, type ApiTokensSource } from "@flotilla/hub";
import { publicKeyPem } from "@flotilla/wire";
import { helpText, parseCommand, requireString, UsageError, type CommandSpec, type Parsed } from "../args.js";
import { byteLimitFlag } from "../byte-limit.js";
import { createProcessLogger, LOG_LEVEL_ENV, parseLogLevel, type ProcessLogger } from "../process-logger.js";
import { waitForSignal } from "../signals.js";
import { keepYoungGenerationSmall } from "../young-generation.js";
import { natsTlsConfigOf, natsTlsFlagSpecs } from "../nats-tls-flags.js";

export const hubCommand: CommandSpec = {
  name: "hub",
  summary: "Run the Flotilla hub: render the env repo per cluster, publish signed desired pointers, ingest agent reports, serve the fleet API.",
  usage: "flotilla hub --repo PATH|URL [flags]",
  flags: [
    { name: "repo", env: "FLOTILLA_REPO", type: "string", description: "env repo: a local git repository path, or an http(s) URL" },
    { name: "branch", env: "FLOTILLA_BRANCH", type: "string", description: "branch to follow (default: HEAD / the remote's default)" },
    { name: "repo-token", env: "FLOTILLA_REPO_TOKEN", type: "string", description: "access token for an http(s) env repo" },
    { name: "database-url", env: "DATABASE_URL", type: "string", description: "Postgres URL; without it the hub runs on embedded PGlite" },
    { name: "pglite-dir", env: "FLOTILLA_PGLITE_DIR", type: "string", description: "PGlite data directory (default: in memory)" },
    { name: "nats-url", env: "NATS_URL", type: "string", description: "NATS server URL", default: "nats://127.0.0.1:4222" },
    { name: "nats-user", env: "NATS_USER", type: "string", description: "NATS user" },
    { name: "nats-password", env: "NATS_PASSWORD", type: "string", description: "NATS password" },
    ...natsTlsFlagSpecs,
    { name: "nats-replicas", env: "FLOTILLA_NATS_REPLICAS", type: "string", description: "JetStream replicas of the streams, buckets and stores the hub creates: 3 on a 3-node NATS cluster", default: "1" },
    { name: "nats-bundle-replicas", env: "FLOTILLA_NATS_BUNDLE_REPLICAS", type: "string", description: "replicas of each cluster's bundle store (default: --nats-replicas); 1 saves a raft group per cluster, see docs/nats-security.md" },
    { name: "nats-prefix", env: "FLOTILLA_NATS_PREFIX", type: "string", description: "prefix of NATS buckets, streams and subjects", default: "flotilla" },
    { name: "signing-key", env: "FLOTILLA_SIGNING_KEY", type: "string", description: "ed25519 private key (PEM) that signs desired pointers" },
    { name: "generate-signing-key", type: "boolean", description: "create the signing key file (and KEY.pub) if it does not exist" },
    { name: "listen", env: "FLOTILLA_LISTEN", type: "string", description: "API listen address host:port", default: "127.0.0.1:8080" },
    { name: "api-tokens", env: "FLOTILLA_API_TOKENS_FILE", type: "string", description: "API tokens file (hashed; `flotilla token mint` writes it); re-read when it changes. Or put the same JSON in FLOTILLA_API_TOKENS" },
    { name: "webhook-secret", env: "FLOTILLA_WEBHOOK_SECRET", type: "string", multiple: true, description: "shared secret of Git push webhooks (POST /v1/webhooks/git; GitHub, Gitea, GitLab), repeatable for rotation" },
    { name: "insecure-no-auth", type: "boolean", description: "serve the API with no authentication (everyone is admin): local experiments only" },
    { name: "log-level", env: LOG_LEVEL_ENV, type: "string", description: "fatal, error, warn, info, debug, trace or silent (JSON lines on stderr)", default: "info" },
    { name: "hub-id", env: "FLOTILLA_HUB_ID", type: "string", description: "this replica's name among hub replicas (GET /readyz, the leader lease; docs/ha.md); default HOSTNAME:pid" },
    { name: "poll-interval", env: "FLOTILLA_POLL_INTERVAL", type: "string", description: "seconds between env repo polls", default: "15" },
    { name: "max-report-bytes", env: "FLOTILLA_MAX_REPORT_BYTES", type: "string", description: "agent reports larger than this are rejected (kept in rejected_reports), bytes or KiB/MiB", default: "1MiB" },
    { name: "max-bundle-bytes", env: "FLOTILLA_MAX_BUNDLE_BYTES", type: "string", description: "a cluster's rendered bundle larger than this is not published (a render failure; the cluster keeps its pointer), bytes or KiB/MiB", default: "32MiB" },
  ],
};

/** The API's authentication: a tokens file, inline tokens, or an explicit and loud opt-out. */
function apiAuthOf(p: Parsed, env: NodeJS.ProcessEnv, log: ProcessLogger): { auth: ApiAuth; tokens?: ApiTokensSource } {
  const file = p.values["api-tokens"];
  const inline = env[API_TOKENS_ENV];
  if (p.values["insecure-no-auth"] === true) {
    if (file || inline) throw new UsageError(`flotilla hub: --insecure-no-auth and API tokens (--api-tokens / ${API_TOKENS_ENV}) contradict each other; give one`);
    console.error(`\n*** ${INSECURE_NO_AUTH_WARNING} ***\n`);
    log.warn({ insecureNoAuth: true }, INSECURE_NO_AUTH_WARNING);
    return { auth: { insecureNoAuth: true } };
  }
  if (typeof file === "string" && file.length > 0) {
    const tokens = openApiTokensFile(file, log);
    return { auth: { tokens: tokens.registry }, tokens };
  }
  if (inline) return { auth: { tokens: apiTokensFromEnv(inline) } };
  throw new UsageError(
    [
      "flotilla hub: the fleet API requires authentication and no tokens were given.",
      "  Mint a token:   flotilla token mint --file api-tokens.json --subject you --role admin",
      "  then run:       flotilla hub --api-tokens api-tokens.json ...   (or FLOTILLA_API_TOKENS_FILE)",
      "  For a throwaway local experiment only: --insecure-no-auth",
    ].join("\n"),
  );
}

/** A JetStream replica count: 1 to 5, as nats-server allows; anything else names the flag. */
export function replicasFlag(p: Parsed, name: string): number | undefined {
  const raw = p.values[name];
  if (raw === undefined || raw === "") return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 5) {
    const env = hubCommand.flags.find((f) => f.name === name)?.env;
    throw new UsageError(`flotilla hub: --${name} ${String(raw)}${env ? ` (or ${env})` : ""}: a JetStream replica count is a whole number from 1 to 5`);
  }
  return n;
}

export async function runHub(argv: string[]): Promise<number> {
  const p = parseCommand(hubCommand, argv);
  if (p.help) {
    console.log(helpText(hubCommand));
    return 0;
  }
  const repo = requireString(p, hubCommand, "repo");
  const maxReportBytes = byteLimitFlag(p, hubCommand, "max-report-bytes");
  const maxBundleBytes = byteLimitFlag(p, hubCommand, "max-bundle-bytes");
  const natsReplicas = replicasFlag(p, "nats-replicas") ?? 1;
  const natsBundleReplicas = replicasFlag(p, "nats-bundle-replicas");
  const natsTls = natsTlsConfigOf(p);
  const log = createProcessLogger({ component: "hub", level: parseLogLevel(p.values["log-level"] as string | undefined) });
  // Before anything is opened: a hub that would serve an open API does not start.
  const { auth, tokens } = apiAuthOf(p, process.env, log);
  const keyPath = requireString(p, hubCommand, "signing-key");
  const signingKey = loadSigningKey({ path: keyPath, generateIfMissing: p.values["generate-signing-key"] === true });
  const [host, port] = String(p.values.listen).split(":");
  // Before the first resolve: its parse of the fleet file and render of every bundle would grow
  // the young generation for good.
  keepYoungGenerationSmall();
  const webhookSecrets = (p.values["webhook-secret"] as string[] | undefined) ?? [];
  const hub = await startHub({
    auth,
    ...(webhookSecrets.length > 0 ? { webhookSecrets } : {}),
    repo: /^https?:\/\//.test(repo)
      ? { url: repo, ...(p.values["repo-token"] ? { token: String(p.values["repo-token"]) } : {}), ...(p.values.branch ? { branch: String(p.values.branch) } : {}) }
      : { path: repo, ...(p.values.branch ? { branch: String(p.values.branch) } : {}) },
    ...(p.values["database-url"] ? { databaseUrl: String(p.values["database-url"]) } : {}),
    ...(p.values["pglite-dir"] ? { pgliteDir: String(p.values["pglite-dir"]) } : {}),
    natsUrl: String(p.values["nats-url"]),
    ...(p.values["nats-user"] ? { natsUser: String(p.values["nats-user"]), natsPassword: String(p.values["nats-password"] ?? "") } : {}),
    ...(natsTls ? { natsTls } : {}),
    natsPrefix: String(p.values["nats-prefix"]),
    natsReplicas,
    ...(natsBundleReplicas !== undefined ? { natsBundleReplicas } : {}),
    signingKey,
    host: host || "127.0.0.1",
    port: Number(port ?? 8080),
    pollIntervalMs: Number(p.values["poll-interval"]) * 1000,
    ...(p.values["hub-id"] ? { hubId: String(p.values["hub-id"]) } : {}),
    maxReportBytes,
    maxBundleBytes,
    loggerInstance: log,
    // OpenTelemetry: GET /metrics on the API; OTLP traces when OTEL_EXPORTER_OTLP_ENDPOINT is set.
    telemetry: true,
  });
  log.info({ url: hub.url, keyId: signingKey.keyId, publicKey: publicKeyPem(signingKey.publicKey) }, "hub serving");
  await waitForSignal();
  await hub.stop();
  tokens?.close();
  return 0;
}

/** Kept for callers of the old location; the function lives in ../signals.ts. */
export { waitForSignal } from "../signals.js";
