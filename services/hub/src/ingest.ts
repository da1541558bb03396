// Report ingest: agents publish reports on JetStream; the hub writes each one to Postgres and
// acknowledges it only after the transaction committed. Nothing is lost:
// - a database error → nak with a delay, JetStream redelivers (max_deliver -1: forever);
// - a malformed report, or one for another cluster → recorded in rejected_reports, then acked;
// - a message redelivered after a commit whose ack was lost → a duplicate, acked, no second row.
// A backlog is written in batches (one transaction, a few multi-row statements, for what has
// already arrived), each message still acked only after the commit that wrote it.
import type { NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, type ConsumerMessages, type JsMsg } from "@nats-io/jetstream";
import type { Kysely } from "kysely";
import { ErrorCode, FlotillaError, toErrorInfo, type ErrorInfo } from "@flotilla/model";
import { ingestReports, recordRejectedReport, type FleetSchema, type IngestOutcome } from "@flotilla/store";
import { storableText, type WireNames } from "@flotilla/wire";
import { batchesOf } from "./ingest-batches.js";
import { ingestDone, ingestReceived } from "./telemetry.js";
import { isDataError, parseReportMessage, type ParsedReportMessage } from "./ingest-message.js";
import {
  defaultIngestConsumerOptions,
  defaultReportStreamOptions,
  ensureIngestConsumer,
  ensureReportStream,
  type IngestConsumerOptions,
  type ReportStreamOptions,
} from "./ingest-stream.js";

/** pino-compatible subset (fastify's logger fits). */
export interface IngestLogger {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface IngestOptions {
  nc: NatsConnection;
  names: WireNames;
  db: Kysely<FleetSchema>;
  logger?: IngestLogger;
  stream?: Partial<ReportStreamOptions>;
  consumer?: Partial<IngestConsumerOptions>;
  /** Reports larger than this many bytes are rejected (default DEFAULT_MAX_REPORT_BYTES, 1 MiB). */
  maxReportBytes?: number;
  /** Delay before a message whose write failed is redelivered (default 2 s). */
  retryDelayMs?: number;
}

export interface IngestCounts {
  ingested: number;
  duplicate: number;
  stale: number;
  rejected: number;
  /** Writes that failed and were handed back to JetStream for redelivery. */
  retried: number;
}

export interface IngestHandle {
  /** Counts since start (for metrics and logs). */
  readonly counts: Readonly<IngestCounts>;
  /** Stops consuming; messages in flight and not acked are redelivered to the next consumer. */
  stop(): Promise<void>;
}

/** Reports written per transaction at most when there is a backlog (a few multi-row statements each). */
const BATCH_MAX = 1024;

const storableError = (e: ErrorInfo): ErrorInfo => ({
  ...e,
  message: storableText(e.message),
  ...(e.location ? { location: { ...e.location, ...(e.location.field !== undefined ? { field: storableText(e.location.field) } : {}) } } : {}),
});

const silent: IngestLogger = { info() {}, warn() {}, error() {} };
const errorText = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export async function startIngest(options: IngestOptions): Promise<IngestHandle> {
  const { nc, names, db } = options;
  const logger = options.logger ?? silent;
  const retryDelayMs = options.retryDelayMs ?? 2_000;
  const jsm = await jetstreamManager(nc);
  await ensureReportStream(jsm, names, { ...defaultReportStreamOptions, ...options.stream });
  const consumerOptions = { ...defaultIngestConsumerOptions, ...options.consumer };
  await ensureIngestConsumer(jsm, names, consumerOptions);
  const consumer = await jetstream(nc).consumers.get(names.reportStream, names.ingestConsumer);
  // Pull no more than can be written well within ack_wait.
  const messages: ConsumerMessages = await consumer.consume({ max_messages: Math.min(2 * BATCH_MAX, consumerOptions.maxAckPending) });

  const counts: IngestCounts = { ingested: 0, duplicate: 0, stale: 0, rejected: 0, retried: 0 };
  let stopping = false;

  type Parsed = { m: JsMsg; parsed: ParsedReportMessage };
  type Valid = { m: JsMsg; parsed: ParsedReportMessage & { ok: true } };
  type Refused = { m: JsMsg; error: ErrorInfo; messageId: string | undefined };

  const handleBatch = async (batch: JsMsg[]): Promise<void> => {
    batch.forEach((m) => ingestReceived(m));
    const items: Parsed[] = batch.map((m) => ({
      m,
      parsed: parseReportMessage(names, { subject: m.subject, data: m.data, messageId: m.headers?.get("Nats-Msg-Id") }, options.maxReportBytes),
    }));
    const refused: Refused[] = [];
    await write(
      items.filter((i): i is Valid => i.parsed.ok),
      refused,
    );
    for (const { m, parsed } of items) if (!parsed.ok) refused.push({ m, error: parsed.error, messageId: parsed.messageId });
    // Rejections are recorded in stream order.
    refused.sort((a, b) => a.m.seq - b.m.seq);
    for (const r of refused) await reject(r.m, r.error, r.messageId);
  };

  // Every valid report of the batch in one transaction, in order (a few multi-row statements, see
  // ingestReports). If the database refuses the data of one of them, the batch is halved until the
  // culprit is alone (and rejected after the batch), the others still written in order; any other
  // failure (database down) hands the whole batch back to JetStream.
  const write = async (valid: Valid[], refused: Refused[]): Promise<void> => {
    if (valid.length === 0) return;
    let outcomes: IngestOutcome[];
    try {
      outcomes = await ingestReports(
        db,
        valid.map(({ m, parsed }) => ({ report: parsed.report, meta: { subject: m.subject, streamSeq: m.seq, messageId: parsed.messageId } })),
      );
    } catch (err) {
      const dataRefused = (err instanceof FlotillaError && err.code === ErrorCode.ReportInvalid) || isDataError(err);
      if (!dataRefused) return retry(valid.map((v) => v.m), err);
      if (valid.length === 1) {
        refused.push({ m: valid[0]!.m, error: toErrorInfo(err, ErrorCode.ReportInvalid), messageId: valid[0]!.parsed.messageId });
        return;
      }
      const half = Math.ceil(valid.length / 2);
      await write(valid.slice(0, half), refused);
      return write(valid.slice(half), refused);
    }
    // Only now are the reports durable: acknowledge.
    valid.forEach(({ m }, i) => {
      m.ack();
      counts[outcomes[i]!]++;
      ingestDone(m, outcomes[i]!);
    });
  };

  const reject = async (m: JsMsg, unsafeError: ErrorInfo, unsafeMessageId: string | undefined): Promise<void> => {
    // The reason quotes what the agent sent (a field name, a header): text the database cannot
    // store would make the rejection itself fail and the message be redelivered forever.
    const error = storableError(unsafeError);
    const messageId = unsafeMessageId === undefined ? undefined : storableText(unsafeMessageId);
    try {
      await recordRejectedReport(db, { ...(messageId ? { messageId } : {}), subject: m.subject, streamSeq: m.seq, error, raw: m.data });
    } catch (err) {
      return retry([m], err);
    }
    m.ack();
    counts.rejected++;
    ingestDone(m, "rejected", error.code);
    logger.warn({ subject: m.subject, streamSeq: m.seq, error }, "report rejected");
  };

  const retry = (ms: JsMsg[], err: unknown): void => {
    for (const m of ms) {
      m.nak(retryDelayMs);
      counts.retried++;
      ingestDone(m, "retried");
    }
    logger.error({ streamSeqs: ms.map((m) => m.seq), err: errorText(err) }, `${ms.length} report write(s) failed; redelivery requested`);
  };

  // One batch at a time, in stream order: later reports of a cluster see earlier ones written.
  const loop = (async () => {
    for await (const batch of batchesOf(messages, BATCH_MAX)) {
      try {
        await handleBatch(batch);
      } catch (err) {
        // handleBatch() turns every failure into an ack or a nak; this is a bug, not a reason to
        // stop ingesting. Unacknowledged messages are redelivered after ack_wait.
        logger.error({ streamSeqs: batch.map((m) => m.seq), err: errorText(err) }, "report handling failed");
      }
    }
    if (!stopping) logger.error({ stream: names.reportStream }, "report ingest stopped: the consumer closed");
  })().catch((err: unknown) => {
    if (!stopping) logger.error({ err: errorText(err) }, "report ingest stopped");
  });

  logger.info({ stream: names.reportStream, consumer: names.ingestConsumer }, "report ingest started");
  return {
    counts,
    async stop() {
      stopping = true;
      messages.stop();
      await loop;
    },
  };
}
