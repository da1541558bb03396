// Writes one agent report in one transaction, exactly once per message id: the message id goes
// into ingested_messages first, so a redelivered message (the hub died after commit, before ack)
// finds it there and changes nothing.
import type { Kysely } from "kysely";
import type { Report } from "@flotilla/model";
import type { FleetSchema } from "../schema.js";
import { writeDrift } from "./write-drift.js";
import { writeHeartbeat } from "./write-heartbeat.js";
import type { WriteOutcome } from "./write-outcome.js";
import { writeStatus } from "./write-status.js";

export interface IngestMeta {
  /** JetStream message id (Nats-Msg-Id), the de-duplication key. */
  messageId: string;
  subject: string;
  streamSeq: number;
}

/** `duplicate`: the message id was ingested before. `stale`: a status report for an older
 * generation (or older than the stored one), or an older heartbeat: recorded, changes nothing. */
export type IngestOutcome = WriteOutcome | "duplicate";

export async function ingestReport(db: Kysely<FleetSchema>, report: Report, meta: IngestMeta): Promise<IngestOutcome> {
  return db.transaction().execute(async (trx) => {
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
  });
}
