// The hub's resolve loop: env repo commit in, one signed desired pointer per cluster out.
//
//   fetch the branch head → same revision as last time? done
//   → read the fleet file → render every cluster's bundle (incrementally: only the (app, cluster)
//     pairs whose read paths changed since the last rendered revision are rendered again)
//   → any error? report it and keep every current pointer: a commit that fails to render never
//     replaces the last good pointer
//   → store bundles by digest → for each cluster whose bundle content changed, sign and publish
//     a pointer with the next generation → tell the sink. A cluster whose bundle is byte for
//     byte what its pointer names keeps that pointer (promotion waves rely on it).
//
// One resolve at a time: a refresh that arrives during a resolve waits for it and runs again.
// A transient failure (the repo unreachable, NATS or Postgres failing the publish) is retried by
// the loop with backoff (1 s, 2 s, 4 s … up to 15 s or the poll interval), not only at the next poll: a
// hub driven by webhooks polls rarely, and a commit whose publish failed once (a NATS cluster
// electing a new stream leader) would otherwise wait that long (issue 11, NATS member-kill fault).
import { ErrorCode, FLEET_FILE, FleetFileError, FlotillaError, toErrorInfo, type Bundle, type Cluster, type ErrorInfo, type SignedPointer } from "@flotilla/model";
import { canonicalJson, currentTraceContext, sha256Digest, type SigningKey } from "@flotilla/wire";
import { createIncrementalRenderer, readFleetBytes, type EnvRepo, type FleetResult, type RenderCounts, type RenderOptions } from "@flotilla/envrepo";
import { eachWithLimit } from "./each-with-limit.js";
import { PublishFencedError, type BundlePublisher } from "./publish.js";
import { countRenderFailure, timedRender, tracedResolve, tracedResolveStep } from "./telemetry.js";

/**
 * Where resolve results go (the integrator wires it to Postgres). Every method must be
 * idempotent: after a failure the resolver redoes the revision and repeats what it already said.
 */
export interface ResolverSink {
  onClusters(clusters: Cluster[]): Promise<void>;
  onPublished(p: SignedPointer): Promise<void>;
  onRenderFailed(revision: string, errors: ErrorInfo[]): Promise<void>;
  onRenderSucceeded(revision: string): Promise<void>;
}

/** pino-style logger (fastify's). */
export interface ResolverLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface ResolverOptions {
  repo: EnvRepo;
  publisher: BundlePublisher;
  signingKey: SigningKey;
  sink: ResolverSink;
  /** The next generation of a cluster's pointer (persisted by the caller, e.g. in Postgres). */
  nextGeneration(cluster: string): Promise<number>;
  /** Clusters published at once (bundle + pointer + sink); default 16. */
  publishConcurrency?: number;
  /** How often start() polls the env repo; default 15 s. */
  pollIntervalMs?: number;
  /** First retry after a transient failure (doubling up to retryMaxMs or the poll interval); default 1 s. */
  retryBaseMs?: number;
  /** Longest wait between retries of a transient failure; default 15 s. */
  retryMaxMs?: number;
  logger?: ResolverLogger;
  render?: RenderOptions;
  /** May this hub write desired state right now (the leader lease)? Asked before the cluster list
   * is stored and before each pointer's compare-and-set; false → the resolve ends fenced. */
  fence?: () => Promise<boolean>;
}

export interface ResolveOutcome {
  /** The revision resolved (the last known one when the fetch failed; "" before any). */
  revision: string;
  /** Pointers published by this resolve. */
  published: number;
  /** True when the revision did not render, or fetching/publishing failed. */
  failed: boolean;
  errors?: ErrorInfo[];
  /** The failure was transient (fetch, publish or sink): the loop retries soon, with backoff. A
   * revision that does not render is not retried (the same commit renders the same way). */
  retryable?: boolean;
  /** How much rendering this resolve did and reused (absent when it did not render). */
  counts?: RenderCounts;
  /** A publish was fenced (PublishFencedError): another hub leads or wrote the pointer first. */
  fenced?: boolean;
}

export interface Resolver {
  start(): void;
  stop(): Promise<void>;
  refresh(): Promise<ResolveOutcome>;
  /** The last revision that rendered and published completely (undefined before the first). */
  lastGood(): string | undefined;
  /** Forget the last revision handled: the next resolve renders and checks every pointer again
   * even if the head has not moved (a new leader does this: another hub published meanwhile). */
  reset(): void;
}

export const DEFAULT_POLL_INTERVAL_MS = 15_000;
export const DEFAULT_PUBLISH_CONCURRENCY = 16;
export const DEFAULT_RETRY_BASE_MS = 1_000;
export const DEFAULT_RETRY_MAX_MS = 15_000;

const silent: ResolverLogger = { info() {}, warn() {}, error() {} };

export function createResolver(opts: ResolverOptions): Resolver {
  const { repo, publisher, signingKey, sink } = opts;
  const log = opts.logger ?? silent;
  const pollIntervalMs = opts.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS;
  const publishConcurrency = Math.max(1, opts.publishConcurrency ?? DEFAULT_PUBLISH_CONCURRENCY);
  const retryBaseMs = Math.max(1, opts.retryBaseMs ?? DEFAULT_RETRY_BASE_MS);
  const retryMaxMs = Math.max(retryBaseMs, opts.retryMaxMs ?? DEFAULT_RETRY_MAX_MS);

  // The last revision fully handled: published, or deterministically failed to render.
  let last: { revision: string; failed: boolean; errors?: ErrorInfo[] } | undefined;
  let lastGood: string | undefined;
  // What each cluster's current pointer names: its digest and the content key of that bundle.
  const publishedContent = new Map<string, { digest: string; contentKey: string; apps: Bundle["apps"] }>();
  // Renders of the last rendered revision, per (app, cluster): a commit re-renders what it touched.
  const renderer = createIncrementalRenderer(opts.render);
  // The fleet file as last parsed: most commits do not touch it, and parsing it (a yaml Document
  // with source ranges, for line-numbered errors) is the biggest allocation of a resolve at 1,000
  // clusters (~125 MiB allocated, bench/hub-memory), which the heap keeps as slack afterwards.
  let lastFleet: { bytes: Uint8Array; result: FleetResult } | undefined;
  const parseFleet = (bytes: Uint8Array): FleetResult => {
    if (lastFleet && Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).equals(lastFleet.bytes)) return lastFleet.result;
    const result = readFleetBytes(bytes);
    lastFleet = { bytes: Uint8Array.from(bytes), result };
    return result;
  };

  async function resolve(): Promise<ResolveOutcome> {
    // 1. Fetch. An unreachable repo changes nothing: agents keep their pointers.
    let revision: string;
    try {
      revision = await tracedResolveStep("fetch", { "flotilla.repo": repo.source }, () => repo.fetch());
    } catch (err) {
      const error = toErrorInfo(err, ErrorCode.RepoUnavailable);
      log.warn({ err: error, repo: repo.source }, "env repo fetch failed; keeping the current pointers");
      return { revision: last?.revision ?? "", published: 0, failed: true, retryable: true, errors: [error] };
    }
    if (last?.revision === revision) {
      return { revision, published: 0, failed: last.failed, ...(last.errors ? { errors: last.errors } : {}) };
    }

    let published = 0;
    try {
      // 2. Read the fleet file and render every cluster at this revision.
      const view = await repo.view(revision);
      const text = view.readFile(FLEET_FILE);
      if (!text) {
        const missing = new FleetFileError(`${FLEET_FILE}: not found at the root of revision ${revision}; the env repo needs a fleet file`, { file: FLEET_FILE });
        return await renderFailed(revision, [missing.toJSON()]);
      }
      const fleet = parseFleet(text);
      if (!fleet.ok) return await renderFailed(revision, fleet.errors.map((e) => e.toJSON()));
      const changed = await changedSinceLastRender(revision);
      const rendered = timedRender(revision, () => renderer.render(view, fleet.fleet, revision, changed));
      const counts = rendered.counts;
      log.info({ revision, ...counts, changedPaths: changed?.length }, "rendered revision");
      if (rendered.warnings.length) log.warn({ revision, warnings: rendered.warnings }, "revision renders with warnings");

      // 3. Any error keeps every current pointer.
      if (!rendered.ok) return { ...(await renderFailed(revision, rendered.errors)), counts };

      // 4. Publish: clusters first (pointers refer to them), then bundles and changed pointers.
      // A deposed leader with an older revision must not retire the new leader's clusters either.
      if (opts.fence && !(await opts.fence())) throw new PublishFencedError("*", "lease", `revision ${revision} not published: this hub no longer leads`);
      await sink.onClusters(fleet.fleet.clusters);
      const info = await repo.commitInfo(revision);
      const commit = { author: info.author, message: info.message.split("\n")[0] ?? "" };
      // Clusters whose bundle the publisher refused (over maxBundleBytes): they keep their pointer.
      const refused: ErrorInfo[] = [];
      await tracedResolveStep("publish", { "flotilla.revision": revision, "flotilla.clusters": rendered.bundles.length }, async () => {
        // Pointers carry the publish span's trace: each agent's reconcile joins it (docs/observability.md).
        const trace = currentTraceContext();
        const traceField = trace ? { trace } : {};
        // Clusters are independent (one KV key, one generation counter each): publish them with
        // bounded concurrency, so 1,000 clusters do not pay 1,000 sequential round trips.
        await eachWithLimit(rendered.bundles, publishConcurrency, async (bundle) => {
          const head = await publisher.readHead(bundle.cluster);
          const current = head.pointer;
          if (current && (await sameContent(bundle, current))) {
            // Same content: no new pointer. Either already published (a retry, a restarted hub) or
            // a commit that renders this cluster byte for byte as before (a base change another
            // environment's overlay overrides, a promotion wave for other clusters): agents keep
            // what they run, and the pointer keeps naming the commit that last changed it. Tell
            // the sink again so its record catches up; sinks must take the same pointer twice.
            await sink.onPublished(current);
            return;
          }
          let digest: string;
          try {
            digest = await publisher.publishBundle(bundle);
          } catch (err) {
            if (!(err instanceof FlotillaError && err.code === ErrorCode.BundleTooLarge)) throw err;
            refused.push(err.toJSON());
            return;
          }
          // Never below what agents already hold, even if the caller's counter was reset.
          const generation = Math.max(await opts.nextGeneration(bundle.cluster), (current?.generation ?? 0) + 1);
          const pointer = await publisher.publishPointer(
            { cluster: bundle.cluster, revision, bundleDigest: digest, generation, issuedAt: new Date().toISOString(), commit, ...traceField },
            signingKey,
            opts.fence,
            head,
          );
          published++;
          publishedContent.set(bundle.cluster, { digest, contentKey: contentKeyOf(bundle), apps: bundle.apps });
          log.info({ cluster: pointer.cluster, revision, digest, generation }, "published desired pointer");
          await sink.onPublished(pointer);
        });
      });
      // A cluster that cannot be published is a render failure of this revision for it; the rest
      // published. Deterministic, so not retried; the revision is not "last good" for promotion.
      if (refused.length) return { ...(await renderFailed(revision, refused)), published, counts };
      await sink.onRenderSucceeded(revision);
      last = { revision, failed: false };
      lastGood = revision;
      return { revision, published, failed: false, counts };
    } catch (err) {
      if (err instanceof PublishFencedError) {
        // Another hub leads (or wrote first): nothing more from this one. Not remembered, so a
        // hub that leads again resolves this revision anew; retried only after a lost
        // compare-and-set (the lease may still be ours: read the pointer again).
        log.warn({ err: err.toJSON(), revision, cluster: err.cluster, fencedBy: err.by }, "publish fenced; another hub publishes");
        return { revision, published, failed: true, fenced: true, retryable: err.by === "revision", errors: [err.toJSON()] };
      }
      // Publishing or the sink failed: not remembered, so the next poll tries this revision again.
      const error = toErrorInfo(err, ErrorCode.Internal);
      log.error({ err: error, revision }, "resolve failed; will retry");
      return { revision, published: 0, failed: true, retryable: true, errors: [error] };
    }
  }

  /**
   * Does the cluster's current pointer name a bundle with this content (everything but the
   * revision)? The incremental renderer hands back the same `apps` for a cluster it did not
   * assemble again, so most clusters are answered without hashing; a restarted hub reads the
   * current bundle once to learn its content.
   */
  async function sameContent(bundle: Bundle, current: SignedPointer): Promise<boolean> {
    let known = publishedContent.get(bundle.cluster);
    if (!known || known.digest !== current.bundleDigest) {
      const old = await publisher.readBundle(current).catch(() => undefined);
      if (!old) return false;
      known = { digest: current.bundleDigest, contentKey: contentKeyOf(old), apps: old.apps };
      publishedContent.set(bundle.cluster, known);
    }
    if (known.apps === bundle.apps) return true;
    const same = known.contentKey === contentKeyOf(bundle);
    if (same) known.apps = bundle.apps;
    return same;
  }

  /** Paths changed since the renderer's revision; undefined (render everything) when unknown. */
  async function changedSinceLastRender(revision: string): Promise<string[] | undefined> {
    if (!renderer.revision) return undefined;
    try {
      return await repo.changedPaths(renderer.revision, revision);
    } catch (err) {
      // The old commit may be gone (a force-push, a re-cloned shallow clone): render everything.
      log.warn({ err: toErrorInfo(err, ErrorCode.RepoUnavailable), from: renderer.revision, revision }, "cannot diff against the last rendered revision; rendering every pair");
      return undefined;
    }
  }

  async function renderFailed(revision: string, errors: ErrorInfo[]): Promise<ResolveOutcome> {
    log.warn({ revision, errors }, "revision failed to render; keeping the last good pointers");
    countRenderFailure();
    await sink.onRenderFailed(revision, errors);
    last = { revision, failed: true, errors };
    return { revision, published: 0, failed: true, errors };
  }

  // --- serialisation: one resolve at a time, later refreshes coalesce into one re-run ----------
  let running: Promise<ResolveOutcome> | undefined;
  let queued: Promise<ResolveOutcome> | undefined;

  function refresh(): Promise<ResolveOutcome> {
    if (!running) {
      running = tracedResolve(resolve)
        .then((outcome) => {
          // Consecutive transient failures, whoever asked (poll, webhook, API): they set the backoff.
          failures = outcome.retryable ? failures + 1 : 0;
          if (outcome.retryable) arm(nextDelay());
          return outcome;
        })
        .finally(() => {
          running = undefined;
        });
      return running;
    }
    queued ??= running
      .catch(() => undefined)
      .then(() => {
        queued = undefined;
        return refresh();
      });
    return queued;
  }

  // --- polling and retrying ---------------------------------------------------------------------
  let timer: NodeJS.Timeout | undefined;
  let dueAt = Infinity;
  let stopped = true;
  let failures = 0;

  const nextDelay = () => (failures > 0 ? Math.min(pollIntervalMs, retryMaxMs, retryBaseMs * 2 ** Math.min(failures - 1, 20)) : pollIntervalMs);

  /** The next loop resolve in `delay` ms, unless one is already due sooner. */
  function arm(delay: number): void {
    if (stopped) return;
    const at = Date.now() + delay;
    if (timer && dueAt <= at) return;
    if (timer) clearTimeout(timer);
    dueAt = at;
    timer = setTimeout(() => {
      timer = undefined;
      dueAt = Infinity;
      void refresh().finally(() => arm(nextDelay()));
    }, delay);
    timer.unref?.();
  }

  return {
    refresh,
    lastGood: () => lastGood,
    reset() {
      last = undefined;
    },
    start() {
      if (!stopped) return;
      stopped = false;
      void refresh().finally(() => arm(nextDelay()));
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      dueAt = Infinity;
      await (queued ?? running)?.catch(() => undefined);
    },
  };
}

/** The digest of a bundle without its revision: equal keys, byte-identical objects and policies. */
function contentKeyOf(bundle: Bundle): string {
  return sha256Digest(canonicalJson({ ...bundle, revision: "" }));
}
