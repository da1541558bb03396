// Writes agent reports exactly once per message id: the message id goes into ingested_messages
// in the same transaction as the report, so a redelivered message (the hub died after commit,
// before ack) finds it there and changes nothing.
import type { Kysely, Transaction } from "kysely";
import type { Report } from "@flotilla/model";
import type { FleetSchema } from "../schema.js";
import { ingestBatchInTransaction } from "./ingest-batch.js";
import { writeDrift } from "./write-drift.js";
import { writeHeartbeat } from "./write-heartbeat.js";
import type { IngestMeta, IngestOutcome } from "./ingest-meta.js";
import { writeStatus } from "./write-status.js";


/** Writes one report in one transaction. */
export async function ingestReport(db: Kysely<FleetSchema>, report: Report, meta: IngestMeta): Promise<IngestOutcome> {
  return db.transaction().execute((trx) => ingestInTransaction(trx, report, meta));
}

/**
 * Writes several reports, in order, in one transaction (one commit instead of one per report) with
 * a few multi-row statements per batch; the outcome and the rows are those of writing them one by
 * one in order.
 * All or nothing: if any write fails, nothing is written and the error is thrown; the caller can
 * then write them one by one to find the culprit.
 */
export async function ingestReports(
  db: Kysely<FleetSchema>,
  items: readonly { report: Report; meta: IngestMeta }[],
): Promise<IngestOutcome[]> {
  if (items.length === 0) return [];
  if (items.length === 1) return [await ingestReport(db, items[0]!.report, items[0]!.meta)];
  // Multi-row statements, same result as writing them one by one (see ingest-batch.ts).
  return db.transaction().execute((trx) => ingestBatchInTransaction(trx, items));
}

async function ingestInTransaction(trx: Transaction<FleetSchema>, report: Report, meta: IngestMeta): Promise<IngestOutcome> {
  const first = await trx
    .insertInto("ingested_messages")
    .values({ message_id: meta.messageId, subject: meta.subject, stream_seq: meta.streamSeq })
    .onConflict((oc) => oc.column("message_id").doNothing())
    .returning("message_id")
    .executeTakeFirst();
  if (!first) return "duplicate";
  switch (report.kind) {
    case "status":
      return writeStatus(trx, report);
    case "drift":
      return writeDrift(trx, report);
    case "heartbeat":
      return writeHeartbeat(trx, report);
  }
}
