// Break-glass in the hub: records windows and their audit trail in Postgres and publishes each
// cluster's active windows as a hub-signed control record under `<cluster>.control` in the
// desired-state KV bucket. Agents honour only what the hub signed, and stop honouring a window at
// its expiry by their own clock; the hub's sweep marks expired windows in the database (audited
// as "flotilla-hub") and publishes the shorter record, so the API and the agents agree.
//
// Every hub replica runs this (the API's changes arrive at any replica, and the sweep runs on each;
// docs/ha.md#break-glass-on-every-replica). Two rules keep the replicas from disagreeing:
// - expiry is one conditional UPDATE (`ended_at is null`): of two replicas sweeping the same
//   window, Postgres lets exactly one mark it, so there is one "expired" audit row;
// - a record takes its generation before it reads the windows, and is written with
//   compare-and-set, never over a higher generation: the highest generation was read last, so the
//   record the KV ends with holds every change, whichever replica's publish lands last.
import type { NatsConnection } from "@nats-io/transport-node";
import { Kvm, type KV } from "@nats-io/kv";
import { ErrorCode, FlotillaError, type SignedControlRecord } from "@flotilla/model";
import {
  endBreakGlass,
  expireDueBreakGlass,
  listActiveBreakGlass,
  nextControlGeneration,
  startBreakGlass,
  type FleetSchema,
} from "@flotilla/store";
import { controlKey, decodeJson, encodeJson, signControl, type SigningKey, type WireNames } from "@flotilla/wire";
import type { Kysely } from "kysely";
import type { BreakGlassChange, BreakGlassEnd, BreakGlassOperations, BreakGlassStart } from "./api/break-glass-operations.js";
import { DESIRED_HISTORY, isWrongLastSequence } from "./publish.js";

/** Compare-and-set tries of one publish that keeps losing to other replicas' writes. */
const PUT_TRIES = 10;

/** The actor the audit trail names for expiries. */
export const HUB_ACTOR = "flotilla-hub";
export const DEFAULT_BREAK_GLASS_SWEEP_MS = 1_000;

export interface BreakGlassLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface BreakGlassControlOptions {
  db: Kysely<FleetSchema>;
  names: WireNames;
  signingKey: SigningKey;
  /** How often expired windows are swept and failed publishes retried (default 1 s). */
  sweepIntervalMs?: number;
  clock?: () => Date;
}

export class BreakGlassControl implements BreakGlassOperations {
  private kv: KV | undefined;
  private log: BreakGlassLogger | undefined;
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;
  /** Per cluster, the publish in flight: publishes of one cluster never overlap, so a record
   * built later always carries the higher generation. */
  private readonly publishing = new Map<string, Promise<SignedControlRecord | undefined>>();
  /** Clusters whose last publish failed: retried on every sweep. */
  private readonly dirty = new Set<string>();
  private readonly clock: () => Date;

  constructor(private readonly opts: BreakGlassControlOptions) {
    this.clock = opts.clock ?? (() => new Date());
  }

  /**
   * Connects to NATS, republishes the record of every cluster that has (or had) break-glass
   * windows — a hub that stopped between a change and its publish catches up here — and starts
   * the expiry sweep. Changes made before attach() are recorded and published here.
   */
  async attach(nc: NatsConnection, logger?: BreakGlassLogger): Promise<void> {
    this.log = logger;
    // Same options as the BundlePublisher creates the bucket with (create is idempotent then).
    this.kv = await new Kvm(nc).create(this.opts.names.desiredBucket, { history: DESIRED_HISTORY, allow_direct: true });
    await this.sweep();
    const known = await this.opts.db.selectFrom("break_glass_control").select("cluster").execute();
    const active = await listActiveBreakGlass(this.opts.db, { now: this.clock() });
    for (const cluster of new Set([...known.map((r) => r.cluster), ...active.map((w) => w.cluster)])) await this.publish(cluster);
    this.timer = setInterval(() => void this.sweep(), this.opts.sweepIntervalMs ?? DEFAULT_BREAK_GLASS_SWEEP_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.sweeping;
    await Promise.all(this.publishing.values());
  }

  async start(cluster: string, request: BreakGlassStart): Promise<BreakGlassChange> {
    const known = await this.opts.db
      .selectFrom("clusters")
      .select("name")
      .where("name", "=", cluster)
      .where("retired_at", "is", null)
      .executeTakeFirst();
    if (!known) throw new FlotillaError(ErrorCode.NotFound, `cluster "${cluster}" is not in the fleet`, { location: { field: "name" } });
    const now = this.clock();
    if (request.expiresAt.getTime() <= now.getTime()) {
      throw new FlotillaError(ErrorCode.BadRequest, `expiresAt: ${request.expiresAt.toISOString()} is not in the future`, { location: { field: "expiresAt" } });
    }
    const window = await startBreakGlass(this.opts.db, { cluster, ...request, startedAt: now });
    this.log?.info({ cluster, window: window.id, scope: window.scope, author: window.author, reason: window.reason, expiresAt: window.expiresAt }, "break-glass started");
    const record = await this.publish(cluster);
    return { ...window, controlGeneration: record?.generation ?? null };
  }

  async end(cluster: string, id: string, by: BreakGlassEnd): Promise<BreakGlassChange> {
    // A window past its expiry is recorded as expired, not as ended early.
    await this.sweep();
    const r = await endBreakGlass(this.opts.db, { cluster, id, actor: by.actor, ...(by.reason !== undefined ? { reason: by.reason } : {}), at: this.clock() });
    if (r.outcome === "not-found") {
      throw new FlotillaError(ErrorCode.NotFound, `cluster "${cluster}" has no break-glass window "${id}"`, { location: { field: "id" } });
    }
    if (r.outcome === "already-ended") return { ...r.window, controlGeneration: null };
    this.log?.info({ cluster, window: id, actor: by.actor, reason: by.reason }, "break-glass ended");
    const record = await this.publish(cluster);
    return { ...r.window, controlGeneration: record?.generation ?? null };
  }

  /** Marks due windows expired, publishes the clusters they belonged to, retries failed publishes. */
  sweep(): Promise<void> {
    this.sweeping ??= this.sweepOnce().finally(() => {
      this.sweeping = undefined;
    });
    return this.sweeping;
  }

  private async sweepOnce(): Promise<void> {
    try {
      const expired = await expireDueBreakGlass(this.opts.db, { now: this.clock(), actor: HUB_ACTOR });
      for (const w of expired) this.log?.info({ cluster: w.cluster, window: w.id, expiresAt: w.expiresAt }, "break-glass expired");
      const clusters = new Set([...expired.map((w) => w.cluster), ...this.dirty]);
      for (const cluster of clusters) await this.publish(cluster);
    } catch (err) {
      this.log?.warn({ err: (err as Error).message }, "break-glass sweep failed; retrying");
    }
  }

  /**
   * Signs and publishes the cluster's active windows with a new generation. Failures are logged
   * and retried by the sweep (resolves undefined); the database stays the source of truth.
   */
  publish(cluster: string): Promise<SignedControlRecord | undefined> {
    const previous = this.publishing.get(cluster) ?? Promise.resolve(undefined);
    const next = previous.then(() => this.publishNow(cluster));
    this.publishing.set(cluster, next);
    void next.finally(() => {
      if (this.publishing.get(cluster) === next) this.publishing.delete(cluster);
    });
    return next;
  }

  private async publishNow(cluster: string): Promise<SignedControlRecord | undefined> {
    if (!this.kv) {
      this.dirty.add(cluster);
      return undefined;
    }
    try {
      const now = this.clock();
      // Generation first, windows second: see the header (several replicas publish).
      const generation = await nextControlGeneration(this.opts.db, cluster, now.getTime());
      const windows = await listActiveBreakGlass(this.opts.db, { cluster, now });
      const record = signControl({ cluster, generation, issuedAt: now.toISOString(), windows }, this.opts.signingKey);
      await this.putUnlessNewer(this.kv, record);
      this.dirty.delete(cluster);
      return record;
    } catch (err) {
      if (!this.dirty.has(cluster)) this.log?.warn({ cluster, err: (err as Error).message }, "publishing the break-glass control record failed; retrying");
      this.dirty.add(cluster);
      return undefined;
    }
  }

  /**
   * Writes the record with compare-and-set on the key's revision, unless the KV already holds a
   * record of a generation at least as high (another replica published a newer one meanwhile; it
   * holds this record's changes too). Agents never see the generations go down.
   */
  private async putUnlessNewer(kv: KV, record: SignedControlRecord): Promise<void> {
    const key = controlKey(record.cluster);
    const payload = encodeJson(record);
    for (let attempt = 1; ; attempt++) {
      const entry = await kv.get(key);
      const held = entry?.operation === "PUT" ? generationOf(entry.value) : undefined;
      if (held !== undefined && held >= record.generation) return;
      try {
        if (entry) await kv.update(key, payload, entry.revision);
        else await kv.create(key, payload);
        return;
      } catch (err) {
        if (!isWrongLastSequence(err) || attempt >= PUT_TRIES) throw err;
      }
    }
  }
}

/** The generation of a stored control record; undefined when it does not parse (then it is replaced). */
function generationOf(value: Uint8Array): number | undefined {
  try {
    const g = (decodeJson(value) as { generation?: unknown }).generation;
    return typeof g === "number" ? g : undefined;
  } catch {
    return undefined;
  }
}
