// Turns one JetStream message into a report the store can ingest, or into the reason it is
// rejected. No I/O: the consumer loop in ingest.ts decides what to write and when to ack.
import { ErrorCode, FlotillaError, toErrorInfo, type ErrorInfo, type Report } from "@flotilla/model";
import { decodeJson, parseReport, type WireNames } from "@flotilla/wire";

export interface IncomingReportMessage {
  subject: string;
  data: Uint8Array;
  /** Nats-Msg-Id header ("" or undefined when absent). */
  messageId: string | undefined;
}

export type ParsedReportMessage =
  | { ok: true; report: Report; messageId: string }
  | { ok: false; error: ErrorInfo; messageId: string | undefined };

/** Reports larger than this are refused (default 1 MiB, NATS's default max_payload). */
export const DEFAULT_MAX_REPORT_BYTES = 1024 * 1024;

export function parseReportMessage(names: WireNames, msg: IncomingReportMessage, maxBytes = DEFAULT_MAX_REPORT_BYTES): ParsedReportMessage {
  const headerId = msg.messageId ? msg.messageId : undefined;
  try {
    const { cluster, kind } = subjectTokens(names, msg.subject);
    // A server configured with a larger max_payload must not let one agent fill the database.
    if (msg.data.length > maxBytes) {
      throw new FlotillaError(
        ErrorCode.ReportInvalid,
        `report on ${msg.subject} is ${msg.data.length} bytes, which exceeds the limit of ${maxBytes} bytes: the agent must split or trim it`,
      );
    }
    const decoded = decodeJson(msg.data);
    if (decoded instanceof Error) {
      throw new FlotillaError(ErrorCode.ReportInvalid, `invalid report on ${msg.subject}: not JSON (${decoded.message})`);
    }
    const report = parseReport(decoded);
    // The subject is what NATS permissions scope per agent; the body is whatever the agent wrote.
    // An agent must not speak for another cluster.
    if (report.cluster !== cluster) {
      throw new FlotillaError(
        ErrorCode.Forbidden,
        `report for cluster "${report.cluster}" published on ${msg.subject}, the subject of cluster "${cluster}": an agent may only report for its own cluster`,
        { location: { field: "cluster" } },
      );
    }
    if (report.kind !== kind) {
      throw new FlotillaError(ErrorCode.ReportInvalid, `report of kind "${report.kind}" published on ${msg.subject} (kind "${kind}")`, {
        location: { field: "kind" },
      });
    }
    return { ok: true, report, messageId: headerId ?? report.id };
  } catch (err) {
    return { ok: false, error: toErrorInfo(err, ErrorCode.ReportInvalid), messageId: headerId };
  }
}

/** `<prefix>.report.<cluster>.<kind>` → cluster and kind. */
function subjectTokens(names: WireNames, subject: string): { cluster: string; kind: string } {
  const head = `${names.prefix}.report.`;
  const rest = subject.startsWith(head) ? subject.slice(head.length).split(".") : [];
  const [cluster, kind] = rest;
  if (rest.length !== 2 || !cluster || !kind) {
    throw new FlotillaError(ErrorCode.ReportInvalid, `report subject ${subject} is not ${head}<cluster>.<kind>`);
  }
  return { cluster, kind };
}

/**
 * True when the database refused the data itself (SQLSTATE class 22 data exception, 23 integrity
 * violation): retrying cannot help, so the report is rejected instead of redelivered forever.
 * Everything else (connection lost, serialization failure, a trigger) is retried.
 */
export function isDataError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^(22|23)[0-9A-Z]{3}$/.test(code);
}
