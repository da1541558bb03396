// Break-glass windows and their audit trail, on PG 15 and PGlite.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { sql } from "kysely";
import {
  endBreakGlass,
  expireDueBreakGlass,
  getBreakGlassWindow,
  listActiveBreakGlass,
  listBreakGlassAudit,
  nextControlGeneration,
  startBreakGlass,
  type FleetDatabase,
} from "../src/index.js";
import { engines } from "./engines.js";

const T0 = new Date("2026-11-26T10:00:00.000Z");
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
const deployment = { group: "apps", kind: "Deployment", namespace: "shop", name: "inventory-api" };

describe.each(engines)("break-glass repositories on $name", (engine) => {
  let fleet: FleetDatabase;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ fleet, cleanup } = await engine.open("break-glass"));
  });
  afterEach(() => cleanup());

  it("starts a window, lists it while active and audits the start with author and reason", async () => {
    const { db } = fleet;
    const w = await startBreakGlass(db, {
      cluster: "prod-1",
      scope: { kind: "object", object: deployment },
      reason: "INC-42: hand-scaling during the incident",
      author: "ada",
      startedAt: T0,
      expiresAt: at(600),
    });
    expect(w).toMatchObject({ cluster: "prod-1", scope: { kind: "object", object: deployment }, author: "ada", startedAt: T0.toISOString(), expiresAt: at(600).toISOString() });
    expect(w.endedAt).toBeUndefined();
    expect(await listActiveBreakGlass(db, { cluster: "prod-1", now: at(1) })).toEqual([w]);
    expect(await listActiveBreakGlass(db, { cluster: "other", now: at(1) })).toEqual([]);
    expect(await listActiveBreakGlass(db, { now: at(1) })).toEqual([w]);
    // Past its expiry it is no longer active even before the sweep marks it.
    expect(await listActiveBreakGlass(db, { now: at(600) })).toEqual([]);
    const audit = await listBreakGlassAudit(db, { limit: 10 });
    expect(audit).toEqual([
      expect.objectContaining({ windowId: w.id, cluster: "prod-1", event: "started", actor: "ada", reason: "INC-42: hand-scaling during the incident", at: T0.toISOString() }),
    ]);
    expect(audit[0]!.window).toEqual({ scope: { kind: "object", object: deployment }, author: "ada", reason: w.reason, expiresAt: w.expiresAt });
  });

  it("ends a window early once, and says so when asked again or for an unknown id", async () => {
    const { db } = fleet;
    const w = await startBreakGlass(db, { cluster: "prod-1", scope: { kind: "app", app: "shop" }, reason: "debugging", author: "ada", startedAt: T0, expiresAt: at(600) });
    const ended = await endBreakGlass(db, { cluster: "prod-1", id: w.id, actor: "grace", reason: "fixed", at: at(60) });
    expect(ended).toMatchObject({ outcome: "ended", window: { id: w.id, endedAt: at(60).toISOString(), endedBy: "grace", endReason: "fixed" } });
    expect(await endBreakGlass(db, { cluster: "prod-1", id: w.id, actor: "grace", at: at(61) })).toMatchObject({ outcome: "already-ended", window: { endedBy: "grace" } });
    // Another cluster's name does not reach the window.
    expect(await endBreakGlass(db, { cluster: "dev-1", id: w.id, actor: "x", at: at(62) })).toEqual({ outcome: "not-found" });
    expect(await endBreakGlass(db, { cluster: "prod-1", id: "nope", actor: "x", at: at(62) })).toEqual({ outcome: "not-found" });
    expect(await listActiveBreakGlass(db, { now: at(62) })).toEqual([]);
    const audit = await listBreakGlassAudit(db, { cluster: "prod-1", limit: 10 });
    expect(audit.map((a) => [a.event, a.actor, a.reason])).toEqual([
      ["ended", "grace", "fixed"],
      ["started", "ada", "debugging"],
    ]);
    // Expiry later does not touch a window that already ended.
    expect(await expireDueBreakGlass(db, { now: at(700), actor: "flotilla-hub" })).toEqual([]);
  });

  it("expires due windows once, at their expiry, audited as the hub", async () => {
    const { db } = fleet;
    const short = await startBreakGlass(db, { cluster: "prod-1", scope: { kind: "cluster" }, reason: "r1", author: "ada", startedAt: T0, expiresAt: at(5) });
    const long = await startBreakGlass(db, { cluster: "dev-1", scope: { kind: "cluster" }, reason: "r2", author: "ada", startedAt: T0, expiresAt: at(60) });
    expect(await expireDueBreakGlass(db, { now: at(4), actor: "flotilla-hub" })).toEqual([]);
    const expired = await expireDueBreakGlass(db, { now: at(10), actor: "flotilla-hub" });
    expect(expired).toEqual([{ ...short, endedAt: at(5).toISOString(), endedBy: "flotilla-hub", endReason: "expired" }]);
    expect(await expireDueBreakGlass(db, { now: at(10), actor: "flotilla-hub" })).toEqual([]);
    // An end after the expiry (before a sweep would have run) does not turn it into an early end.
    expect(await endBreakGlass(db, { cluster: "prod-1", id: short.id, actor: "grace", at: at(11) })).toMatchObject({ outcome: "already-ended" });
    expect(await getBreakGlassWindow(db, "dev-1", long.id)).toEqual(long);
    const audit = await listBreakGlassAudit(db, { cluster: "prod-1", limit: 10 });
    expect(audit.map((a) => [a.event, a.actor, a.at])).toEqual([
      ["expired", "flotilla-hub", at(5).toISOString()],
      ["started", "ada", T0.toISOString()],
    ]);
    expect(audit[0]!.window).toMatchObject({ author: "ada", reason: "r1" });
  });

  it("refuses an empty reason, an expiry before the start and an unknown scope kind", async () => {
    const { db } = fleet;
    const base = { cluster: "prod-1", scope: { kind: "cluster" as const }, reason: "r", author: "ada", startedAt: T0, expiresAt: at(5) };
    await expect(startBreakGlass(db, { ...base, reason: "" })).rejects.toThrow(/reason/);
    await expect(startBreakGlass(db, { ...base, expiresAt: T0 })).rejects.toThrow(/break_glass_windows_expiry/);
    await expect(startBreakGlass(db, { ...base, scope: { kind: "namespace" as never } })).rejects.toThrow(/break_glass_windows_scope_kind/);
    const count = await sql<{ n: number }>`select count(*)::int as n from break_glass_audit`.execute(db);
    expect(count.rows[0]!.n).toBe(0);
  });

  it("issues control generations that increase and never fall below the floor", async () => {
    const { db } = fleet;
    const floor = T0.getTime();
    const g1 = await nextControlGeneration(db, "prod-1", floor);
    expect(g1).toBe(floor);
    expect(await nextControlGeneration(db, "prod-1", floor)).toBe(floor + 1);
    // A clock that went back still yields a higher generation.
    expect(await nextControlGeneration(db, "prod-1", floor - 1000)).toBe(floor + 2);
    expect(await nextControlGeneration(db, "prod-1", floor + 5000)).toBe(floor + 5000);
    expect(await nextControlGeneration(db, "dev-1", 1)).toBe(1);
  });
});
