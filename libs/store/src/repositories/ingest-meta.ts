// What the ingest knows of a report besides its body, and what writing it did; shared by the
// one-by-one path (ingest-report.ts) and the batched one (ingest-batch.ts).
import type { WriteOutcome } from "./write-outcome.js";

export interface IngestMeta {
  /** JetStream message id (Nats-Msg-Id), the de-duplication key. */
  messageId: string;
  subject: string;
  streamSeq: number;
}

/** `duplicate`: the message id was ingested before. `stale`: a status report for an older
 * generation (or older than the stored one), or an older heartbeat: recorded, changes nothing. */
export type IngestOutcome = WriteOutcome | "duplicate";
