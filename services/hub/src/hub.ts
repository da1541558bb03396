// The hub process: wires the resolver (env repo → signed desired pointers), report ingest
// (JetStream → Postgres) and the fleet API together. Each part's loop lives in its own file
// (resolver.ts, ingest.ts, leadership.ts); this file only connects them, in start order, and
// stops them in reverse order. Several replicas may share one Postgres and one NATS
// (docs/ha.md): every replica ingests and serves the API; the leader alone resolves and promotes.
import type { FastifyBaseLogger, FastifyInstance } from "fastify";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import fs from "node:fs";
import { join } from "node:path";
import { openEnvRepo, openEnvRepoWriter, type EnvRepo, type EnvRepoWriter, type EnvRepoWriterOptions, type OpenEnvRepoOptions } from "@flotilla/envrepo";
import {
  migrateToLatest,
  nextGenerations,
  openDatabase,
  openLeaderLease,
  recordDesiredPointer,
  recordRenderFailure,
  resolveRenderFailures,
  upsertClusters,
  type FleetDatabase,
} from "@flotilla/store";
import { ErrorCode, FlotillaError } from "@flotilla/model";
import { connectNatsTls, natsTlsOptions, wireNames, type NatsTlsConfig, type SigningKey, type WireNames } from "@flotilla/wire";
import { buildApi, type ApiAuth } from "./api/index.js";
import { BreakGlassControl } from "./break-glass.js";
import { startIngest, type IngestHandle } from "./ingest.js";
import { startRetention } from "./retention.js";
import { BundlePublisher } from "./publish.js";
import { coalescedLookup } from "./coalesced-lookup.js";
import { createResolver, type Resolver, type ResolverLogger, type ResolverSink } from "./resolver.js";
import { createPromotionController, type PromotionController } from "./promotion.js";
import { createLeadership, DEFAULT_LEADER_POLL_MS, type Leadership } from "./leadership.js";
import { createRefreshHandOff, refreshChannelOf } from "./refresh-hand-off.js";
import { PromotionOperations } from "./promotion-operations.js";
import { startTelemetry } from "./telemetry-sdk.js";

export interface HubConfig {
  repo: OpenEnvRepoOptions;
  /** Postgres URL; undefined → embedded PGlite (in `pgliteDir`, or in memory). */
  databaseUrl?: string;
  pgliteDir?: string;
  natsUrl: string;
  /** NATS credentials of the hub (user/password or token). */
  natsUser?: string;
  natsPassword?: string;
  natsToken?: string;
  /** TLS of the NATS connection: the CA to trust and a client certificate for mutual TLS
   * (`--nats-ca`, `--nats-cert`, `--nats-key`). A `tls://` natsUrl requires TLS. */
  natsTls?: NatsTlsConfig;
  /** Prefix of every NATS bucket, stream and subject (several fleets can share one NATS). */
  natsPrefix?: string;
  /** JetStream replicas of the streams, buckets and stores the hub creates (default 1). On a
   * 3-node NATS cluster give 3: with R1 a stream lives on one node, and that node's loss stops
   * reports and desired state until it returns. */
  natsReplicas?: number;
  /** Replicas of each cluster's bundle store (default natsReplicas); see BundlePublisherOptions.bundleReplicas. */
  natsBundleReplicas?: number;
  signingKey: SigningKey;
  /** Who may call the API: tokens (see `flotilla token mint`), or `{ insecureNoAuth: true }`. No default. */
  auth: ApiAuth;
  /** Shared secrets of Git webhooks (POST /v1/webhooks/git); without them the route does not exist. */
  webhookSecrets?: string[];
  /** API listen address; port 0 picks a free port. */
  host?: string;
  port?: number;
  pollIntervalMs?: number;
  /** How often expired break-glass windows are swept (default 1 s). */
  breakGlassSweepMs?: number;
  logger?: boolean | { level: string };
  /** The process's logger (the CLI's pino logger: component, trace ids, level); wins over `logger`.
   * The API, the resolver, ingest and break-glass all log through it. */
  loggerInstance?: FastifyBaseLogger;
  /** Start OpenTelemetry for this process (W3C propagation, OTLP traces when OTEL_EXPORTER_OTLP_ENDPOINT
   * is set) and serve Prometheus metrics on GET /metrics. Off by default: it registers globals. */
  telemetry?: boolean;
  /** Where promotion commits are pushed; default: the env repo itself (its url and token, or a
   * bare repository at its path). `false` turns promotion off. */
  promotionWriter?: EnvRepoWriterOptions | false;
  /** How often the promotion controller looks at open promotions (default 2 s). */
  promotionTickMs?: number;
  /** Reports larger than this many bytes are rejected and recorded, not ingested (default 1 MiB,
   * NATS's default max_payload). Lower it to bound what one agent can write per report. */
  maxReportBytes?: number;
  /** This replica's name as the others see it (GET /readyz, hand-offs); default host:pid. */
  hubId?: string;
  /** How often the leader lease is checked, and taken when free (default 1 s): a follower takes
   * over within about this long of the leader's Postgres session ending. */
  leaderPollMs?: number;
  /** A cluster's bundle larger than this many bytes (canonical JSON) is not published: a render
   * failure naming the cluster, size and limit; that cluster keeps its pointer (default 32 MiB). */
  maxBundleBytes?: number;
}

export interface Hub {
  /** Base URL of the fleet API, e.g. http://127.0.0.1:8080. */
  url: string;
  names: WireNames;
  api: FastifyInstance;
  database: FleetDatabase;
  nc: NatsConnection;
  resolver: Resolver;
  repo: EnvRepo;
  publisher: BundlePublisher;
  ingest: IngestHandle;
  breakGlass: BreakGlassControl;
  promotion: PromotionController;
  promotionOps: PromotionOperations;
  /** Where promotion commits are pushed (undefined when promotion is off). */
  promotionWriter: EnvRepoWriter | undefined;
  leadership: Leadership;
  stop(): Promise<void>;
}

/** The writer of promotion commits the env repo allows: http(s) with the reader's credentials, or a bare repository. */
export function defaultPromotionWriter(repo: OpenEnvRepoOptions): EnvRepoWriterOptions | undefined {
  const branch = repo.branch ? { branch: repo.branch } : {};
  if (repo.url) return { url: repo.url, ...branch, ...(repo.token ? { token: repo.token } : {}), ...(repo.username ? { username: repo.username } : {}) };
  if (repo.path && !fs.existsSync(join(repo.path, ".git"))) return { path: repo.path, ...branch };
  return undefined;
}

/** A size limit of the config must be a positive whole number of bytes: 0 or NaN would refuse everything. */
function checkByteLimit(field: "maxReportBytes" | "maxBundleBytes", value: number | undefined): void {
  if (value === undefined || (Number.isSafeInteger(value) && value > 0)) return;
  throw new FlotillaError(ErrorCode.ConfigInvalid, `hub config ${field} is ${value}: give a positive whole number of bytes`, { location: { field } });
}

export async function startHub(config: HubConfig): Promise<Hub> {
  checkByteLimit("maxReportBytes", config.maxReportBytes);
  checkByteLimit("maxBundleBytes", config.maxBundleBytes);
  // Before anything is opened: a CA, certificate or key that cannot work names its flag and file.
  const natsTls = natsTlsOptions(config.natsUrl, config.natsTls);
  const names = wireNames(config.natsPrefix ?? "flotilla");
  const stops: (() => Promise<unknown>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
  };
  try {
    const telemetry = config.telemetry ? await startTelemetry({ serviceName: "flotilla-hub", prometheus: true }) : undefined;
    if (telemetry) stops.push(() => telemetry.shutdown());
    // 1. The database: migrate before anything writes.
    const database = await openDatabase({ url: config.databaseUrl, pgliteDir: config.pgliteDir });
    stops.push(() => database.close());
    await migrateToLatest(database.db);

    // 2. The API's logger doubles as the hub's logger.
    // Break-glass records and audits changes from the start; it publishes once NATS is attached.
    const breakGlass = new BreakGlassControl({
      db: database.db,
      names,
      signingKey: config.signingKey,
      ...(config.breakGlassSweepMs ? { sweepIntervalMs: config.breakGlassSweepMs } : {}),
    });
    // 2b. The leader role (leadership.ts): one lease, a Postgres advisory lock (the embedded
    // database has one hub, which leads). The resolver and the promotion controller run on the
    // leader only. The lock keeps the name it had when it covered promotion alone, so replicas of
    // an older hub and this one never promote at the same time during a rolling upgrade.
    const repo = openEnvRepo(config.repo);
    const leaderPollMs = config.leaderPollMs ?? DEFAULT_LEADER_POLL_MS;
    const lease = openLeaderLease({
      url: config.databaseUrl,
      name: `${config.natsPrefix ?? "flotilla"}:promotion`,
      ...(config.hubId ? { identity: config.hubId } : {}),
      rejoinAfterMs: 3 * leaderPollMs,
      listen: { channel: refreshChannelOf(names.prefix), onNotify: (payload) => handOff.received(payload) },
    });
    stops.push(() => lease.close());
    const writerOptions = config.promotionWriter === false ? undefined : (config.promotionWriter ?? defaultPromotionWriter(config.repo));
    const writer: EnvRepoWriter | undefined = writerOptions ? openEnvRepoWriter(writerOptions) : undefined;
    const promotion = createPromotionController({
      db: database.db,
      repo,
      writer,
      resolve: () => resolver.refresh(),
      lastGoodRevision: () => resolver.lastGood(),
      leader: { isLeader: async () => leadership.role() === "leader" },
      // The promotion fence (docs/ha.md): the lease confirmed before each push and promotion write.
      fence: () => leadership.fence(),
      ...(config.promotionTickMs ? { tickMs: config.promotionTickMs } : {}),
    });
    const role = async () => ({ role: leadership.role(), leader: (await leadership.leader()) ?? null });
    const promotionApi = { controller: promotion, operations: new PromotionOperations(database.db, promotion) };
    const api = buildApi({ db: database.db, auth: config.auth, ...(config.webhookSecrets?.length ? { webhooks: { secrets: config.webhookSecrets } } : {}), hub: { refresh: () => handOff.refresh(), ready: () => ready, role, breakGlass }, logger: config.logger ?? false, ...(config.loggerInstance ? { loggerInstance: config.loggerInstance } : {}), promotion: promotionApi, ...(telemetry?.metricsHandler ? { metrics: telemetry.metricsHandler } : {}) });
    const log: ResolverLogger = api.log;
    const leadership: Leadership = createLeadership({ lease, pollMs: leaderPollMs, onGain: () => lead(), onLose: () => follow(), logger: log });
    // A follower hands refreshes to the leader over Postgres; the leader hears them on its lease session.
    const handOff = createRefreshHandOff({ db: database.db, channel: refreshChannelOf(names.prefix), leadership: () => leadership, resolver: () => resolver, logger: log });

    // 3. NATS: report ingest first, so no report waits for the first render.
    const nc = await connectNatsTls(connect, {
      servers: config.natsUrl,
      name: "flotilla-hub",
      maxReconnectAttempts: -1,
      ...(config.natsUser ? { user: config.natsUser, pass: config.natsPassword } : {}),
      ...(config.natsToken ? { token: config.natsToken } : {}),
      ...(natsTls ? { tls: natsTls } : {}),
    });
    stops.push(() => nc.drain());
    const ingest = await startIngest({ nc, names, db: database.db, logger: log, ...(config.natsReplicas ? { stream: { replicas: config.natsReplicas } } : {}), ...(config.maxReportBytes !== undefined ? { maxReportBytes: config.maxReportBytes } : {}) });
    stops.push(() => ingest.stop());
    const retention = startRetention({ db: database.db, onError: (err) => log.warn({ err: String(err) }, "retention sweep failed") });
    stops.push(() => retention.stop());

    // 4. The resolver publishes bundles and pointers; its sink keeps Postgres in step.
    const publisher = new BundlePublisher({ nc, names, ...(config.natsReplicas ? { replicas: config.natsReplicas } : {}), ...(config.natsBundleReplicas ? { bundleReplicas: config.natsBundleReplicas } : {}), ...(config.maxBundleBytes !== undefined ? { maxBundleBytes: config.maxBundleBytes } : {}) });
    await publisher.ensureResources();
    await breakGlass.attach(nc, log);
    stops.push(() => breakGlass.stop());
    const db = database.db;
    const sink: ResolverSink = {
      onClusters: (clusters) => upsertClusters(db, clusters, { retireMissing: true }),
      onPublished: (pointer) => recordDesiredPointer(db, pointer),
      onRenderFailed: (revision, errors) => recordRenderFailure(db, revision, errors),
      onRenderSucceeded: async (revision) => void (await resolveRenderFailures(db, revision)),
    };
    let ready = false;
    const resolver = createResolver({
      repo,
      publisher,
      signingKey: config.signingKey,
      sink,
      // Concurrent publishes ask together: one query per batch, not one per cluster.
      nextGeneration: coalescedLookup((clusters) => nextGenerations(db, clusters)),
      pollIntervalMs: config.pollIntervalMs,
      logger: log,
      fence: () => leadership.fence(),
    });
    // Stopped in reverse: promotion (its tick may be resolving), the resolver, then the role.
    stops.push(() => leadership.stop());
    stops.push(() => resolver.stop());
    promotion.start();
    stops.push(() => promotion.stop());

    // 4b. Lead or follow. A new leader resolves everything again (another hub published meanwhile),
    // then polls; a deposed one stops its loop (its fence already refuses every publish).
    async function lead(): Promise<void> {
      resolver.reset();
      const first = await resolver.refresh();
      log.info({ revision: first.revision, published: first.published, failed: first.failed, role: "leader" }, "hub resolved the env repo");
      resolver.start();
    }
    async function follow(): Promise<void> {
      await resolver.stop();
    }
    // Awaits the first check of the lease, and the first resolve when this replica leads.
    await leadership.start();
    ready = true;
    if (leadership.role() === "follower") log.info({ identity: leadership.identity, leader: await leadership.leader() }, "hub following");

    // 5. Serve.
    const address = await api.listen({ host: config.host ?? "127.0.0.1", port: config.port ?? 8080 });
    stops.push(() => api.close());
    return { url: address, names, api, database, nc, resolver, repo, publisher, ingest, breakGlass, promotion, promotionOps: promotionApi.operations, promotionWriter: writer, leadership, stop: stopAll };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
