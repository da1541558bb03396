// Writes a batch of reports with a handful of multi-row statements instead of several statements
// per report, with the same result as writing them one by one in order (ingest-report.ts).
//
// The batch is cut into runs in which no two reports touch the same state: per run at most one
// status per cluster and no drift of a cluster with a status in the run, at most one drift per
// object, at most one heartbeat per cluster. Reports of one run are independent, so each table is
// written once per run (INSERT … SELECT FROM unnest(arrays) — a fixed number of bind parameters
// whatever the batch size); runs are written in order, so a later report of a cluster sees the
// earlier ones written, exactly as one by one. A backlog of many clusters gives few long runs; a
// burst of one cluster's reports gives short ones (still one transaction).
import { sql, type Transaction } from "kysely";
import { DriftAction, SyncState, refKey, type DriftReport, type HeartbeatReport, type Report, type StatusReport } from "@flotilla/model";
import type { FleetSchema } from "../schema.js";
import { reportTimestamp } from "../timestamps.js";
import type { IngestMeta, IngestOutcome } from "./ingest-meta.js";
import { dedupe } from "./rows.js";

type Item = { report: Report; meta: IngestMeta };
type Indexed<R extends Report> = { i: number; report: R; at: string };

interface Run {
  statuses: Indexed<StatusReport>[];
  heartbeats: Indexed<HeartbeatReport>[];
  drifts: (Indexed<DriftReport> & { changedAt: string | null })[];
  statusClusters: Set<string>;
  driftClusters: Set<string>;
  driftObjects: Set<string>;
  heartbeatClusters: Set<string>;
}

const newRun = (): Run => ({
  statuses: [],
  heartbeats: [],
  drifts: [],
  statusClusters: new Set(),
  driftClusters: new Set(),
  driftObjects: new Set(),
  heartbeatClusters: new Set(),
});

/** Writes the items (in order) inside `trx`; returns one outcome per item. */
export async function ingestBatchInTransaction(trx: Transaction<FleetSchema>, items: readonly Item[]): Promise<IngestOutcome[]> {
  const outcomes: IngestOutcome[] = new Array<IngestOutcome>(items.length).fill("duplicate");
  // Validate every timestamp first: a bad one fails the whole batch before anything is sent.
  const ats = items.map(({ report }) => reportTimestamp(report.at, "at"));
  const changedAts = items.map(({ report }) =>
    report.kind === "drift" && report.changedAt !== undefined ? reportTimestamp(report.changedAt, "changedAt") : null,
  );

  // Message ids: the first occurrence in the batch that is new to the table is written; the rest
  // (seen before, or repeated inside the batch) are duplicates.
  const firstOf = new Map<string, number>();
  items.forEach(({ meta }, i) => {
    if (!firstOf.has(meta.messageId)) firstOf.set(meta.messageId, i);
  });
  const firsts = [...firstOf.values()];
  const fresh = await sql<{ message_id: string }>`
    insert into ingested_messages (message_id, subject, stream_seq)
    select * from unnest(${firsts.map((i) => items[i]!.meta.messageId)}::text[], ${firsts.map((i) => items[i]!.meta.subject)}::text[],
      ${firsts.map((i) => items[i]!.meta.streamSeq)}::bigint[])
    on conflict (message_id) do nothing
    returning message_id`.execute(trx);
  const isNew = new Set(fresh.rows.map((r) => r.message_id));

  let run = newRun();
  const runs: Run[] = [run];
  items.forEach(({ report, meta }, i) => {
    if (firstOf.get(meta.messageId) !== i || !isNew.has(meta.messageId)) return;
    const at = ats[i]!;
    switch (report.kind) {
      case "status":
        if (run.statusClusters.has(report.cluster) || run.driftClusters.has(report.cluster)) runs.push((run = newRun()));
        run.statuses.push({ i, report, at });
        run.statusClusters.add(report.cluster);
        break;
      case "drift": {
        const object = `${report.cluster}\u0000${refKey(report.object)}`;
        if (run.statusClusters.has(report.cluster) || run.driftObjects.has(object)) runs.push((run = newRun()));
        run.drifts.push({ i, report, at, changedAt: changedAts[i]! });
        run.driftClusters.add(report.cluster);
        run.driftObjects.add(object);
        break;
      }
      case "heartbeat":
        if (run.heartbeatClusters.has(report.cluster)) runs.push((run = newRun()));
        run.heartbeats.push({ i, report, at });
        run.heartbeatClusters.add(report.cluster);
        break;
    }
  });

  for (const r of runs) {
    if (r.statuses.length) await writeStatuses(trx, r.statuses, outcomes);
    if (r.heartbeats.length) await writeHeartbeats(trx, r.heartbeats, outcomes);
    if (r.drifts.length) await writeDrifts(trx, r.drifts, outcomes);
  }
  return outcomes;
}

/** As write-status.ts, for statuses of distinct clusters. */
async function writeStatuses(trx: Transaction<FleetSchema>, statuses: Indexed<StatusReport>[], outcomes: IngestOutcome[]): Promise<void> {
  const col = <T>(f: (s: Indexed<StatusReport>) => T): T[] => statuses.map(f);
  const written = await sql<{ cluster: string }>`
    insert into cluster_status (cluster, generation, revision, bundle_digest, observed_revision, sync_state, health, last_error, reported_at, agent)
    select * from unnest(${col((s) => s.report.cluster)}::text[], ${col((s) => s.report.generation)}::bigint[], ${col((s) => s.report.revision)}::text[],
      ${col((s) => s.report.bundleDigest)}::text[], ${col((s) => s.report.observedRevision ?? null)}::text[], ${col((s) => s.report.syncState)}::text[],
      ${col((s) => s.report.health)}::text[], ${col((s) => (s.report.lastError ? JSON.stringify(s.report.lastError) : null))}::jsonb[],
      ${col((s) => s.at)}::timestamptz[], ${col((s) => s.report.agent)}::text[])
    on conflict (cluster) do update set
      generation = excluded.generation, revision = excluded.revision, bundle_digest = excluded.bundle_digest,
      observed_revision = excluded.observed_revision, sync_state = excluded.sync_state, health = excluded.health,
      last_error = excluded.last_error, reported_at = excluded.reported_at, agent = excluded.agent
    where cluster_status.generation < excluded.generation
       or (cluster_status.generation = excluded.generation and cluster_status.reported_at <= excluded.reported_at)
    returning cluster`.execute(trx);
  const wasWritten = new Set(written.rows.map((r) => r.cluster));
  const done = statuses.filter((s) => wasWritten.has(s.report.cluster));
  for (const s of statuses) outcomes[s.i] = wasWritten.has(s.report.cluster) ? "ingested" : "stale";
  if (done.length === 0) return;

  const clusters = done.map((s) => s.report.cluster);
  await sql`delete from app_status where cluster = any(${clusters}::text[])`.execute(trx);
  await sql`delete from object_status where cluster = any(${clusters}::text[])`.execute(trx);
  const apps = done.flatMap((s) => dedupe(s.report.apps, (a) => a.name).map((a) => ({ s, a })));
  if (apps.length) {
    await sql`
      insert into app_status (cluster, app, health, generation, updated_at)
      select * from unnest(${apps.map(({ s }) => s.report.cluster)}::text[], ${apps.map(({ a }) => a.name)}::text[], ${apps.map(({ a }) => a.health)}::text[],
        ${apps.map(({ s }) => s.report.generation)}::bigint[], ${apps.map(({ s }) => s.at)}::timestamptz[])`.execute(trx);
  }
  const objects = done.flatMap((s) =>
    dedupe(
      s.report.apps.flatMap((a) => a.objects.map((o) => ({ app: a.name, o }))),
      ({ o }) => refKey(o.ref),
    ).map((x) => ({ s, ...x })),
  );
  if (objects.length) {
    const oc = <T>(f: (x: (typeof objects)[number]) => T): T[] => objects.map(f);
    await sql`
      insert into object_status (cluster, app, "group", kind, namespace, name, action, reason, message, health, health_reason, images, generation, updated_at)
      select * from unnest(${oc((x) => x.s.report.cluster)}::text[], ${oc((x) => x.app)}::text[], ${oc((x) => x.o.ref.group)}::text[],
        ${oc((x) => x.o.ref.kind)}::text[], ${oc((x) => x.o.ref.namespace)}::text[], ${oc((x) => x.o.ref.name)}::text[], ${oc((x) => x.o.action)}::text[],
        ${oc((x) => x.o.reason)}::text[], ${oc((x) => x.o.message ?? null)}::text[], ${oc((x) => x.o.health)}::text[],
        ${oc((x) => x.o.healthReason ?? null)}::text[], ${oc((x) => JSON.stringify(x.o.images ?? []))}::jsonb[],
        ${oc((x) => x.s.report.generation)}::bigint[], ${oc((x) => x.s.at)}::timestamptz[])`.execute(trx);
  }
  // Synced at a newer generation closes older open drift (see write-status.ts).
  const synced = done.filter((s) => s.report.syncState === SyncState.Synced);
  if (synced.length) {
    await sql`
      update drift_events e set resolved_at = v.at
      from unnest(${synced.map((s) => s.report.cluster)}::text[], ${synced.map((s) => s.report.generation)}::bigint[], ${synced.map((s) => s.at)}::timestamptz[])
        as v(cluster, generation, at)
      where e.cluster = v.cluster and e.resolved_at is null and e.generation < v.generation and e.detected_at <= v.at`.execute(trx);
  }
}

/** As write-heartbeat.ts, for heartbeats of distinct clusters. */
async function writeHeartbeats(trx: Transaction<FleetSchema>, beats: Indexed<HeartbeatReport>[], outcomes: IngestOutcome[]): Promise<void> {
  const written = await sql<{ cluster: string }>`
    insert into heartbeats (cluster, agent, at, generation, deadline_seconds)
    select * from unnest(${beats.map((b) => b.report.cluster)}::text[], ${beats.map((b) => b.report.agent)}::text[], ${beats.map((b) => b.at)}::timestamptz[],
      ${beats.map((b) => b.report.generation)}::bigint[], ${beats.map((b) => b.report.deadlineSeconds)}::float8[])
    on conflict (cluster) do update set
      agent = excluded.agent, at = excluded.at, generation = excluded.generation, deadline_seconds = excluded.deadline_seconds
    where heartbeats.at < excluded.at
    returning cluster`.execute(trx);
  const wasWritten = new Set(written.rows.map((r) => r.cluster));
  for (const b of beats) outcomes[b.i] = wasWritten.has(b.report.cluster) ? "ingested" : "stale";
}

/** As write-drift.ts, for drift events of distinct objects of clusters without a status in the run. */
async function writeDrifts(
  trx: Transaction<FleetSchema>,
  drifts: (Indexed<DriftReport> & { changedAt: string | null })[],
  outcomes: IngestOutcome[],
): Promise<void> {
  const col = <T>(f: (d: (typeof drifts)[number]) => T): T[] => drifts.map(f);
  const cluster = col((d) => d.report.cluster);
  const group = col((d) => d.report.object.group);
  const kind = col((d) => d.report.object.kind);
  const namespace = col((d) => d.report.object.namespace);
  const name = col((d) => d.report.object.name);
  const detected = col((d) => d.at);
  // A newer drift event of the same object supersedes the open older ones.
  await sql`
    update drift_events e set resolved_at = v.detected_at
    from unnest(${cluster}::text[], ${group}::text[], ${kind}::text[], ${namespace}::text[], ${name}::text[], ${detected}::timestamptz[])
      as v(cluster, "group", kind, namespace, name, detected_at)
    where e.cluster = v.cluster and e."group" = v."group" and e.kind = v.kind and e.namespace = v.namespace and e.name = v.name
      and e.resolved_at is null and e.detected_at < v.detected_at`.execute(trx);
  // Already over when written: reverted; or (arriving late) a newer drift of the same object or a
  // later Synced status of a newer generation is stored.
  await sql`
    insert into drift_events (id, cluster, app, generation, revision, "group", kind, namespace, name, paths, actor, changed_at, detected_at, policy, action, agent, resolved_at)
    select v.id, v.cluster, v.app, v.generation, v.revision, v."group", v.kind, v.namespace, v.name, v.paths, v.actor, v.changed_at, v.detected_at,
      v.policy, v.action, v.agent,
      case when v.action = ${DriftAction.Reverted} then v.detected_at else coalesce(
        (select min(n.detected_at) from drift_events n
          where n.cluster = v.cluster and n."group" = v."group" and n.kind = v.kind and n.namespace = v.namespace and n.name = v.name
            and n.detected_at > v.detected_at),
        (select s.reported_at from cluster_status s
          where s.cluster = v.cluster and s.sync_state = ${SyncState.Synced} and s.generation > v.generation and s.reported_at >= v.detected_at)
      ) end
    from unnest(${col((d) => d.report.id)}::text[], ${cluster}::text[], ${col((d) => d.report.app)}::text[], ${col((d) => d.report.generation)}::bigint[],
      ${col((d) => d.report.revision)}::text[], ${group}::text[], ${kind}::text[], ${namespace}::text[], ${name}::text[],
      ${col((d) => JSON.stringify(d.report.paths))}::jsonb[], ${col((d) => d.report.actor)}::text[], ${col((d) => d.changedAt)}::timestamptz[],
      ${detected}::timestamptz[], ${col((d) => d.report.policy)}::text[], ${col((d) => d.report.action)}::text[], ${col((d) => d.report.agent)}::text[])
      as v(id, cluster, app, generation, revision, "group", kind, namespace, name, paths, actor, changed_at, detected_at, policy, action, agent)
    on conflict (id) do nothing`.execute(trx);
  for (const d of drifts) outcomes[d.i] = "ingested";
}
