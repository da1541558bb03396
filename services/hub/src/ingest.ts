// Report ingest: agents publish reports on JetStream; the hub writes each one to Postgres and
// acknowledges it only after the transaction committed. Nothing is lost:
// - a database error → nak with a delay, JetStream redelivers (max_deliver -1: forever);
// - a malformed report, or one for another cluster → recorded in rejected_reports, then acked;
// - a message redelivered after a commit whose ack was lost → a duplicate, acked, no second row.
// A backlog is written in batches (one transaction for what has already arrived), each message
// still acked only after the commit that wrote it.
import type { NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, type ConsumerMessages, type JsMsg } from "@nats-io/jetstream";
import type { Kysely } from "kysely";
import { ErrorCode, FlotillaError, toErrorInfo, type ErrorInfo, type Report } from "@flotilla/model";
import { ingestReport, ingestReports, recordRejectedReport, type FleetSchema, type IngestOutcome } from "@flotilla/store";
import type { WireNames } from "@flotilla/wire";
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

/** Reports written per transaction at most when there is a backlog. */
const BATCH_MAX = 64;

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

  const handleBatch = async (batch: JsMsg[]): Promise<void> => {
    batch.forEach((m) => ingestReceived(m));
    const items: Parsed[] = batch.map((m) => ({
      m,
      parsed: parseReportMessage(names, { subject: m.subject, data: m.data, messageId: m.headers?.get("Nats-Msg-Id") }),
    }));
    const valid = items.filter((i): i is { m: JsMsg; parsed: ParsedReportMessage & { ok: true } } => i.parsed.ok);
    // Fast path for a backlog: every valid report of the batch in one transaction, in order.
    let written = false;
    if (valid.length > 1) {
      try {
        const outcomes = await ingestReports(
          db,
          valid.map(({ m, parsed }) => ({ report: parsed.report, meta: { subject: m.subject, streamSeq: m.seq, messageId: parsed.messageId } })),
        );
        // Only now are the reports durable: acknowledge.
        valid.forEach(({ m }, i) => {
          m.ack();
          counts[outcomes[i]!]++;
          ingestDone(m, outcomes[i]!);
        });
        written = true;
      } catch {
        // Something in the batch failed: write one by one below, which finds the culprit (or
        // naks each message if the database is down).
      }
    }
    for (const { m, parsed } of items) {
      if (!parsed.ok) await reject(m, parsed.error, parsed.messageId);
      else if (!written) await handleOne(m, parsed.report, parsed.messageId);
    }
  };

  const handleOne = async (m: JsMsg, report: Report, messageId: string): Promise<void> => {
    let outcome: IngestOutcome;
    try {
      outcome = await ingestReport(db, report, { subject: m.subject, streamSeq: m.seq, messageId });
    } catch (err) {
      // The report passed the schema but the database refuses its data: retrying cannot help.
      if ((err instanceof FlotillaError && err.code === ErrorCode.ReportInvalid) || isDataError(err)) {
        return reject(m, toErrorInfo(err, ErrorCode.ReportInvalid), messageId);
      }
      return retry(m, err);
    }
    // Only now is the report durable: acknowledge.
    m.ack();
    counts[outcome]++;
    ingestDone(m, outcome);
  };

  const reject = async (m: JsMsg, error: ErrorInfo, messageId: string | undefined): Promise<void> => {
    try {
      await recordRejectedReport(db, { ...(messageId ? { messageId } : {}), subject: m.subject, streamSeq: m.seq, error, raw: m.data });
    } catch (err) {
      return retry(m, err);
    }
    m.ack();
    counts.rejected++;
    ingestDone(m, "rejected", error.code);
    logger.warn({ subject: m.subject, streamSeq: m.seq, error }, "report rejected");
  };

  const retry = (m: JsMsg, err: unknown): void => {
    m.nak(retryDelayMs);
    counts.retried++;
    ingestDone(m, "retried");
    logger.error({ subject: m.subject, streamSeq: m.seq, err: errorText(err) }, "report write failed; redelivery requested");
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
