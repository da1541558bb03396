// GET /v1/rejected-reports — reports the hub could not ingest, newest first, with their bytes.
import type { FastifyInstance } from "fastify";
import { listRejectedReports } from "@flotilla/store";
import type { ApiContext } from "../context.js";
import { optionalInteger, queryString } from "../query-params.js";
import type { RejectedReportBody } from "../responses.js";

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** The bytes as text when they are UTF-8 (they usually are: JSON), else null. */
function textOf(raw: Uint8Array): string | null {
  try {
    return utf8.decode(raw);
  } catch {
    return null;
  }
}

const REJECTED_QUERY = queryString({ limit: "how many, newest first" });

export function rejectedReportRoutes(app: FastifyInstance, { db }: ApiContext): void {
  app.get("/v1/rejected-reports", { schema: { querystring: REJECTED_QUERY } }, async (request): Promise<RejectedReportBody[]> => {
    const query = request.query as Record<string, unknown>;
    const limit = optionalInteger(query, "limit", { min: 1, max: 1000, fallback: 100 });
    const rows = await listRejectedReports(db, limit);
    return rows.map((r) => ({
      messageId: r.messageId,
      subject: r.subject,
      streamSeq: r.streamSeq,
      error: r.error,
      at: r.at,
      rawText: textOf(r.raw),
      rawBase64: Buffer.from(r.raw).toString("base64"),
    }));
  });
}
