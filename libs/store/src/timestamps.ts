// Timestamps cross the store boundary as ISO-8601 strings; inside they are timestamptz.
import { ErrorCode, FlotillaError } from "@flotilla/model";

/** Validates an ISO-8601 timestamp from a report; names the field when it is not one. */
export function reportTimestamp(value: string, field: string): string {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) {
    throw new FlotillaError(ErrorCode.ReportInvalid, `invalid report: field "${field}": "${value}" is not an ISO-8601 timestamp`, {
      location: { field },
    });
  }
  return new Date(ms).toISOString();
}

export const isoOf = (d: Date | string): string => (d instanceof Date ? d.toISOString() : new Date(d).toISOString());
export const isoOrNull = (d: Date | string | null | undefined): string | null => (d == null ? null : isoOf(d));
