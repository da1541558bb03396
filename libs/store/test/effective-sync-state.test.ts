import { describe, expect, it } from "vitest";
import { effectiveSync, type SyncInputs } from "../src/index.js";

const now = new Date("2026-11-26T10:00:00Z");
const secondsAgo = (s: number) => new Date(now.getTime() - s * 1000);
const status = { generation: 3, syncState: "Synced" as const, health: "Healthy" as const };

describe("effectiveSync", () => {
  const cases: [string, Omit<SyncInputs, "now">, { syncState: string; health: string; silent: boolean }][] = [
    ["fresh heartbeat, current status", { status, heartbeat: { at: secondsAgo(10), deadlineSeconds: 30 }, desiredGeneration: 3 }, { syncState: "Synced", health: "Healthy", silent: false }],
    ["heartbeat past its deadline", { status, heartbeat: { at: secondsAgo(31), deadlineSeconds: 30 }, desiredGeneration: 3 }, { syncState: "Unknown", health: "Unknown", silent: true }],
    ["no heartbeat yet", { status, heartbeat: null, desiredGeneration: 3 }, { syncState: "Unknown", health: "Unknown", silent: true }],
    ["no status yet", { status: null, heartbeat: { at: secondsAgo(1), deadlineSeconds: 30 }, desiredGeneration: 3 }, { syncState: "Unknown", health: "Unknown", silent: false }],
    ["status for an older generation", { status, heartbeat: { at: secondsAgo(1), deadlineSeconds: 30 }, desiredGeneration: 4 }, { syncState: "OutOfSync", health: "Healthy", silent: false }],
    ["no pointer issued yet", { status, heartbeat: { at: secondsAgo(1), deadlineSeconds: 30 }, desiredGeneration: null }, { syncState: "Synced", health: "Healthy", silent: false }],
  ];
  it.each(cases)("%s", (_name, inputs, expected) => {
    expect(effectiveSync({ ...inputs, now })).toEqual(expected);
  });
});
