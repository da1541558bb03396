// NATS names. Everything is derived from one prefix so tests (and several fleets on one NATS)
// get their own buckets, streams and subjects.

export interface WireNames {
  prefix: string;
  /** KV bucket with keys `<cluster>.desired` (signed pointer) and `<cluster>.control` (break-glass). */
  desiredBucket: string;
  /**
   * Base name of the bundle object stores: each cluster has its own, `<bundleStore>-<cluster>`
   * (bundleStoreOf), so NATS permissions can give an agent its own store's stream and no other.
   */
  bundleStore: string;
  /** JetStream stream capturing every agent report. */
  reportStream: string;
  /** Subject filter of the report stream. */
  reportSubjects: string;
  /** Durable consumer the hub ingests with. */
  ingestConsumer: string;
}

const NAME = /^[A-Za-z0-9_-]+$/;

export function wireNames(prefix = "flotilla"): WireNames {
  if (!NAME.test(prefix)) throw new Error(`NATS prefix "${prefix}" must match ${NAME}`);
  return {
    prefix,
    desiredBucket: `${prefix}-desired`,
    bundleStore: `${prefix}-bundles`,
    reportStream: `${prefix.toUpperCase().replace(/-/g, "_")}_REPORTS`,
    reportSubjects: `${prefix}.report.>`,
    ingestConsumer: `${prefix}-hub-ingest`,
  };
}

/**
 * The object store holding one cluster's bundles by digest. Per cluster because nats-server 2.9
 * can scope permissions per stream but not per object (docs/nats-security.md); nothing is lost to
 * de-duplication, since every bundle names its cluster and so no two clusters share a digest.
 */
export const bundleStoreOf = (names: WireNames, cluster: string): string => `${names.bundleStore}-${cluster}`;

/** The JetStream stream behind an object store (nats.js's naming): NATS permissions name it. */
export const objectStoreStreamOf = (store: string): string => `OBJ_${store}`;

/** The subject of one stored object's chunks (`*`: any object's) in an object store's stream. */
export const objectChunksSubjectOf = (store: string, nuid: string): string => `$O.${store}.C.${nuid}`;

export const desiredKey = (cluster: string): string => `${cluster}.desired`;
export const controlKey = (cluster: string): string => `${cluster}.control`;

/** Subject an agent publishes one kind of report on: `<prefix>.report.<cluster>.<kind>`. */
export const reportSubject = (names: WireNames, cluster: string, kind: string): string =>
  `${names.prefix}.report.${cluster}.${kind}`;

/** Cluster names double as NATS subject tokens and KV key parts. */
export const CLUSTER_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
