import { describe, expect, it } from "vitest";
import { encodeJson, wireNames } from "@flotilla/wire";
import { isDataError, parseReportMessage } from "../src/ingest-message.js";

const names = wireNames("fleet");
const heartbeat = { id: "r-1", kind: "heartbeat", cluster: "prod-eu-1", agent: "prod-eu-1/a/1", at: "2026-11-26T09:00:00Z", generation: 3, deadlineSeconds: 30 };
const parse = (subject: string, body: unknown, messageId?: string) =>
  parseReportMessage(names, { subject, data: body instanceof Uint8Array ? body : encodeJson(body), messageId });

describe("parseReportMessage", () => {
  it("accepts a report on its own cluster's subject; the Nats-Msg-Id header wins over the report id", () => {
    expect(parse("fleet.report.prod-eu-1.heartbeat", heartbeat)).toMatchObject({ ok: true, messageId: "r-1", report: { generation: 3 } });
    expect(parse("fleet.report.prod-eu-1.heartbeat", heartbeat, "hdr-1")).toMatchObject({ ok: true, messageId: "hdr-1" });
    // nats.js returns "" for a missing header.
    expect(parse("fleet.report.prod-eu-1.heartbeat", heartbeat, "")).toMatchObject({ ok: true, messageId: "r-1" });
  });

  it.each([
    ["a subject outside the report namespace", "other.report.prod-eu-1.heartbeat", heartbeat, "FLOTILLA_ERR_REPORT_INVALID", /is not fleet\.report\.<cluster>\.<kind>/],
    ["a subject with extra tokens", "fleet.report.prod-eu-1.heartbeat.x", heartbeat, "FLOTILLA_ERR_REPORT_INVALID", /is not fleet\.report/],
    ["bytes that are not JSON", "fleet.report.prod-eu-1.heartbeat", new Uint8Array([0xff, 0x00]), "FLOTILLA_ERR_REPORT_INVALID", /not JSON/],
    ["a schema violation", "fleet.report.prod-eu-1.heartbeat", { ...heartbeat, deadlineSeconds: -1 }, "FLOTILLA_ERR_REPORT_INVALID", /deadlineSeconds/],
    ["another cluster's report", "fleet.report.prod-us-1.heartbeat", heartbeat, "FLOTILLA_ERR_FORBIDDEN", /only report for its own cluster/],
    ["a kind other than the subject's", "fleet.report.prod-eu-1.status", heartbeat, "FLOTILLA_ERR_REPORT_INVALID", /kind "heartbeat"/],
  ])("rejects %s", (_what, subject, body, code, message) => {
    const parsed = parse(subject, body, "m-9");
    expect(parsed).toMatchObject({ ok: false, messageId: "m-9", error: { code } });
    expect(parsed.ok ? "" : parsed.error.message).toMatch(message);
  });
});

describe("isDataError", () => {
  it.each([
    ["22P02", true], // invalid text representation
    ["23505", true], // unique violation
    ["08006", false], // connection failure
    ["40001", false], // serialization failure
    ["P0001", false], // raised by a trigger
    [undefined, false],
  ])("SQLSTATE %s → %s", (code, expected) => {
    expect(isDataError(code === undefined ? new Error("x") : Object.assign(new Error("x"), { code }))).toBe(expected);
  });
});
