// Report ingest: agents publish reports on JetStream; the hub writes each one to Postgres and
// acknowledges it only after the transaction committed. Nothing is lost:
// - a database error → nak with a delay, JetStream redelivers (max_deliver -1: forever);
// - a malformed report, or one for another cluster → recorded in rejected_reports, then acked;
// - a message redelivered after a commit whose ack was lost → a duplicate, acked, no second row.
import type { NatsConnection } from "@nats-io/transport-node";
import { jetstream, jetstreamManager, type ConsumerMessages, type JsMsg } from "@nats-io/jetstream";
import type { Kysely } from "kysely";
import { ErrorCode, FlotillaError, toErrorInfo, type ErrorInfo } from "@flotilla/model";
import { ingestReport, recordRejectedReport, type FleetSchema, type IngestOutcome } from "@flotilla/store";
import type { WireNames } from "@flotilla/wire";
import { isDataError, parseReportMessage } from "./ingest-message.js";
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
  const messages: ConsumerMessages = await consumer.consume({ max_messages: Math.min(64, consumerOptions.maxAckPending) });

  const counts: IngestCounts = { ingested: 0, duplicate: 0, stale: 0, rejected: 0, retried: 0 };
  let stopping = false;

  const handle = async (m: JsMsg): Promise<void> => {
    const meta = { subject: m.subject, streamSeq: m.seq };
    const parsed = parseReportMessage(names, { subject: m.subject, data: m.data, messageId: m.headers?.get("Nats-Msg-Id") });
    if (!parsed.ok) return reject(m, parsed.error, parsed.messageId);
    let outcome: IngestOutcome;
    try {
      outcome = await ingestReport(db, parsed.report, { ...meta, messageId: parsed.messageId });
    } catch (err) {
      // The report passed the schema but the database refuses its data: retrying cannot help.
      if ((err instanceof FlotillaError && err.code === ErrorCode.ReportInvalid) || isDataError(err)) {
        return reject(m, toErrorInfo(err, ErrorCode.ReportInvalid), parsed.messageId);
      }
      return retry(m, err);
    }
    // Only now is the report durable: acknowledge.
    m.ack();
    counts[outcome]++;
  };

  const reject = async (m: JsMsg, error: ErrorInfo, messageId: string | undefined): Promise<void> => {
    try {
      await recordRejectedReport(db, { ...(messageId ? { messageId } : {}), subject: m.subject, streamSeq: m.seq, error, raw: m.data });
    } catch (err) {
      return retry(m, err);
    }
    m.ack();
    counts.rejected++;
    logger.warn({ subject: m.subject, streamSeq: m.seq, error }, "report rejected");
  };

  const retry = (m: JsMsg, err: unknown): void => {
    m.nak(retryDelayMs);
    counts.retried++;
    logger.error({ subject: m.subject, streamSeq: m.seq, err: errorText(err) }, "report write failed; redelivery requested");
  };

  // One message at a time, in stream order: later reports of a cluster see earlier ones written.
  const loop = (async () => {
    for await (const m of messages) {
      try {
        await handle(m);
      } catch (err) {
        // handle() turns every failure into an ack or a nak; this is a bug, not a reason to stop
        // ingesting. The message is redelivered after ack_wait.
        logger.error({ subject: m.subject, streamSeq: m.seq, err: errorText(err) }, "report handling failed");
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
