// Reports the hub could not ingest (bad JSON, schema violation, an agent speaking for another
// cluster). Recorded with the raw bytes so nothing an agent sent is lost.
import type { Kysely } from "kysely";
import type { ErrorInfo } from "@flotilla/model";
import type { FleetSchema } from "../schema.js";

export interface RejectedReportInput {
  /** Nats-Msg-Id when the message had one. */
  messageId?: string;
  subject: string;
  streamSeq: number;
  error: ErrorInfo;
  raw: Uint8Array;
}

export interface RejectedReportRecord {
  messageId: string | null;
  subject: string;
  streamSeq: number;
  error: ErrorInfo;
  raw: Uint8Array;
  at: string;
}

/** Records a rejected message once (a redelivery of it is a duplicate). */
export async function recordRejectedReport(db: Kysely<FleetSchema>, input: RejectedReportInput): Promise<"recorded" | "duplicate"> {
  // Without a message id the stream position identifies the message.
  const dedupeKey = input.messageId ?? `${input.subject}#${input.streamSeq}`;
  return db.transaction().execute(async (trx) => {
    const first = await trx
      .insertInto("ingested_messages")
      .values({ message_id: dedupeKey, subject: input.subject, stream_seq: input.streamSeq })
      .onConflict((oc) => oc.column("message_id").doNothing())
      .returning("message_id")
      .executeTakeFirst();
    if (!first) return "duplicate";
    await trx
      .insertInto("rejected_reports")
      .values({
        message_id: input.messageId ?? null,
        subject: input.subject,
        stream_seq: input.streamSeq,
        error: JSON.stringify(input.error),
        raw: input.raw,
      })
      .execute();
    return "recorded";
  });
}

export async function listRejectedReports(db: Kysely<FleetSchema>, limit = 100): Promise<RejectedReportRecord[]> {
  const rows = await db.selectFrom("rejected_reports").selectAll().orderBy("id", "desc").limit(limit).execute();
  return rows.map((r) => ({
    messageId: r.message_id,
    subject: r.subject,
    streamSeq: r.stream_seq,
    error: r.error,
    raw: new Uint8Array(r.raw),
    at: r.at.toISOString(),
  }));
}
