// The report stream and the hub's durable consumer on it, created or brought up to date.
import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type JetStreamManager,
} from "@nats-io/jetstream";
import { ErrorCode, FlotillaError } from "@flotilla/model";
import type { WireNames } from "@flotilla/wire";

export const nanos = (ms: number): number => Math.round(ms * 1_000_000);

export interface ReportStreamOptions {
  /** JetStream de-duplication window for Nats-Msg-Id (default 2 minutes). */
  duplicateWindowMs: number;
  /** How long reports stay in the stream (default 7 days; 0 = forever). */
  maxAgeMs: number;
  /** JetStream replicas of the stream (default 1; 3 on a 3-node cluster, so a lost node loses no report). */
  replicas: number;
}

export const defaultReportStreamOptions: ReportStreamOptions = {
  duplicateWindowMs: 2 * 60_000,
  maxAgeMs: 7 * 24 * 3600_000,
  replicas: 1,
};

export async function ensureReportStream(jsm: JetStreamManager, names: WireNames, opts: ReportStreamOptions): Promise<void> {
  const wanted = {
    subjects: [names.reportSubjects],
    duplicate_window: nanos(opts.duplicateWindowMs),
    max_age: nanos(opts.maxAgeMs),
    num_replicas: opts.replicas,
  };
  const existing = await jsm.streams.info(names.reportStream).catch((err: unknown) => {
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamNotFound) return undefined;
    throw err;
  });
  if (!existing) {
    await jsm.streams.add({
      name: names.reportStream,
      ...wanted,
      storage: StorageType.File,
      retention: RetentionPolicy.Limits,
    });
  } else if (
    existing.config.duplicate_window !== wanted.duplicate_window ||
    existing.config.max_age !== wanted.max_age ||
    existing.config.num_replicas !== wanted.num_replicas ||
    !existing.config.subjects?.includes(names.reportSubjects)
  ) {
    await jsm.streams.update(names.reportStream, { ...existing.config, ...wanted });
  }
  // Old servers silently ignore settings they do not know: read back what de-duplication needs.
  const { config } = await jsm.streams.info(names.reportStream);
  if (config.duplicate_window !== wanted.duplicate_window || !config.subjects?.includes(names.reportSubjects)) {
    throw new FlotillaError(
      ErrorCode.ConfigInvalid,
      `stream ${names.reportStream} has duplicate_window ${config.duplicate_window}ns and subjects ${JSON.stringify(config.subjects)}; expected ${wanted.duplicate_window}ns and ${names.reportSubjects}`,
    );
  }
}

export interface IngestConsumerOptions {
  /** Redelivery after this long without an ack (default 30 s). */
  ackWaitMs: number;
  /** Unacknowledged messages in flight at most (default 4096: a few batches being written and pulled). */
  maxAckPending: number;
}

export const defaultIngestConsumerOptions: IngestConsumerOptions = { ackWaitMs: 30_000, maxAckPending: 4096 };

export async function ensureIngestConsumer(jsm: JetStreamManager, names: WireNames, opts: IngestConsumerOptions): Promise<void> {
  const mutable = {
    ack_wait: nanos(opts.ackWaitMs),
    // Never give up on a report: a database outage may last longer than any retry budget.
    max_deliver: -1,
    max_ack_pending: opts.maxAckPending,
  };
  const existing = await jsm.consumers.info(names.reportStream, names.ingestConsumer).catch((err: unknown) => {
    if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.ConsumerNotFound) return undefined;
    throw err;
  });
  if (!existing) {
    await jsm.consumers.add(names.reportStream, {
      durable_name: names.ingestConsumer,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: names.reportSubjects,
      ...mutable,
    });
  } else if (
    existing.config.ack_wait !== mutable.ack_wait ||
    existing.config.max_deliver !== mutable.max_deliver ||
    existing.config.max_ack_pending !== mutable.max_ack_pending
  ) {
    await jsm.consumers.update(names.reportStream, names.ingestConsumer, mutable);
  }
}
