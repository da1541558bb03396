// The pure parts of promotion: wave plans, freeze windows, cluster outcomes, budgets, gates, trailers.
import { describe, expect, it } from "vitest";
import { ClusterOutcome, PromotionKind, PromotionState, type Cluster, type PromotionPolicy, type Release } from "@flotilla/model";
import { defaultPromotionPolicy } from "@flotilla/envrepo";
import { planWaves } from "../src/promotion/waves.js";
import { freezeState } from "../src/promotion/freeze.js";
import { clusterOutcome, type OutcomeInput } from "../src/promotion/cluster-outcome.js";
import { budgetBreach, settled, tally } from "../src/promotion/budget.js";
import { allPass, evaluateGates } from "../src/promotion/gates.js";
import { commitMessage, parseTrailers } from "../src/promotion/trailers.js";
import { supersessions, type QueueEntry } from "../src/promotion/supersede.js";

const cluster = (name: string, labels: Record<string, string> = {}): Cluster => ({ name, environment: "prod", labels });
const fleet = [cluster("prod-3"), cluster("prod-1", { ring: "canary" }), cluster("prod-2"), cluster("prod-4")];

describe("planWaves", () => {
  it("canary by selector, then cumulative percentages rounded up, in cluster name order", () => {
    const plan = planWaves(fleet, [{ name: "canary", selector: { matchLabels: { ring: "canary" } } }, { name: "half", percent: 50, failureBudget: 1 }, { name: "all", percent: 100 }]);
    expect(plan.map((w) => [w.name, w.clusters, w.failureBudget])).toEqual([
      ["canary", ["prod-1"], 0],
      ["half", ["prod-2"], 1],
      ["all", ["prod-3", "prod-4"], 0],
    ]);
  });
  it("clusters no wave claims go last; empty waves are dropped", () => {
    const plan = planWaves(fleet, [{ name: "one", clusters: ["prod-4"] }, { name: "none", selector: { matchLabels: { ring: "nothing" } } }]);
    expect(plan.map((w) => [w.name, w.clusters])).toEqual([
      ["one", ["prod-4"]],
      ["remaining", ["prod-1", "prod-2", "prod-3"]],
    ]);
  });
});

describe("freezeState", () => {
  const holidays = { name: "holidays", kind: "deny" as const, start: "2026-12-24T00:00:00.000Z", end: "2026-12-27T00:00:00.000Z" };
  it("a deny window blocks waves until its end, but not rollbacks unless it says so", () => {
    const now = new Date("2026-12-25T12:00:00Z");
    expect(freezeState([holidays], now, false)).toMatchObject({ blocked: true, until: "2026-12-27T00:00:00.000Z" });
    expect(freezeState([holidays], now, true).blocked).toBe(false);
    expect(freezeState([{ ...holidays, allowRollback: false }], now, true).blocked).toBe(true);
    expect(freezeState([holidays], new Date("2026-12-27T00:00:00Z"), false).blocked).toBe(false);
  });
  it("weekly windows, also across midnight; allow windows block outside them", () => {
    const nightly = { kind: "deny" as const, days: ["fri"], from: "22:00", to: "06:00" };
    expect(freezeState([nightly], new Date("2026-12-05T03:00:00Z"), false)).toMatchObject({ blocked: true, until: "2026-12-05T06:00:00.000Z" }); // Saturday 03:00
    expect(freezeState([nightly], new Date("2026-12-05T07:00:00Z"), false).blocked).toBe(false);
    const office = { kind: "allow" as const, days: ["mon", "tue", "wed", "thu", "fri"], from: "08:00", to: "17:00" };
    expect(freezeState([office], new Date("2026-12-07T09:00:00Z"), false).blocked).toBe(false); // Monday
    expect(freezeState([office], new Date("2026-12-06T09:00:00Z"), false)).toMatchObject({ blocked: true, until: "2026-12-07T08:00:00.000Z" }); // Sunday
  });
});

describe("clusterOutcome", () => {
  const issuedAt = new Date("2026-12-06T10:00:00Z");
  const at = (s: number) => new Date(issuedAt.getTime() + s * 1000);
  const base = (over: Partial<OutcomeInput> = {}): OutcomeInput => ({
    previous: ClusterOutcome.Issued,
    healthySince: undefined,
    expected: { generation: 7, bundleDigest: "sha256:new", issuedAt },
    status: undefined,
    lastSeenAt: at(1),
    now: at(2),
    progressDeadlineMs: 60_000,
    minHealthyMs: 10_000,
    unknownAfterMs: 30_000,
    ...over,
  });
  const report = (over: object = {}) => ({ generation: 7, bundleDigest: "sha256:new", syncState: "Synced" as const, health: "Healthy" as const, reportedAt: at(2), ...over });

  it("a Healthy report for the old generation or digest never counts", () => {
    expect(clusterOutcome(base({ status: report({ generation: 6 }) })).outcome).toBe(ClusterOutcome.Issued);
    expect(clusterOutcome(base({ status: report({ bundleDigest: "sha256:old" }) })).outcome).toBe(ClusterOutcome.Issued);
  });
  it("Applied + Healthy becomes Succeeded only after minHealthy", () => {
    const first = clusterOutcome(base({ status: report() }));
    expect(first).toMatchObject({ outcome: ClusterOutcome.Progressing, healthySince: at(2) });
    const later = clusterOutcome(base({ status: report(), previous: first.outcome, healthySince: first.healthySince, now: at(13), lastSeenAt: at(12) }));
    expect(later.outcome).toBe(ClusterOutcome.Succeeded);
  });
  it("Degraded fails; Degraded after success regresses; failures stick", () => {
    expect(clusterOutcome(base({ status: report({ health: "Degraded" }) })).outcome).toBe(ClusterOutcome.Failed);
    expect(clusterOutcome(base({ status: report({ syncState: "Failed", health: "Unknown" }) })).outcome).toBe(ClusterOutcome.Failed);
    expect(clusterOutcome(base({ previous: ClusterOutcome.Succeeded, status: report({ health: "Degraded" }) })).outcome).toBe(ClusterOutcome.Regressed);
    expect(clusterOutcome(base({ previous: ClusterOutcome.Failed, status: report() })).outcome).toBe(ClusterOutcome.Failed);
  });
  it("no report for the new pointer by the progress deadline: TimedOut; a silent agent: Unknown, never success", () => {
    expect(clusterOutcome(base({ now: at(61), lastSeenAt: at(60) })).outcome).toBe(ClusterOutcome.TimedOut);
    expect(clusterOutcome(base({ now: at(40), lastSeenAt: at(5), status: report() })).outcome).toBe(ClusterOutcome.Unknown);
    expect(clusterOutcome(base({ now: at(40), lastSeenAt: undefined })).outcome).toBe(ClusterOutcome.Unknown);
  });
});

describe("budgets", () => {
  it("halts past the wave's budget, past the total, and on any regression", () => {
    const wave = tally([ClusterOutcome.Succeeded, ClusterOutcome.Failed, ClusterOutcome.Skipped]);
    expect(settled(wave)).toBe(true);
    expect(budgetBreach({ wave, waveBudget: 1, totalFailed: 1, totalBudget: 1 })).toBeUndefined();
    expect(budgetBreach({ wave, waveBudget: 0, totalFailed: 1, totalBudget: 1 })).toMatch(/1 failed cluster\(s\) in this wave, budget 0/);
    expect(budgetBreach({ wave, waveBudget: 1, totalFailed: 2, totalBudget: 1 })).toMatch(/in total, budget 1/);
    expect(budgetBreach({ wave: tally([ClusterOutcome.Regressed]), waveBudget: 5, totalFailed: 1, totalBudget: 5 })).toMatch(/regressed/);
    expect(settled(tally([ClusterOutcome.Succeeded, ClusterOutcome.Unknown]))).toBe(false);
  });
});

describe("gates", () => {
  const release: Release = { id: "rel-shop-1", app: "shop", sourceRevision: "abc", images: [{ name: "ghcr.io/acme/shop", digest: `sha256:${"a".repeat(64)}` }], createdBy: "ci", createdAt: "2026-12-06T09:00:00Z" };
  const policy: PromotionPolicy = { ...defaultPromotionPolicy(), from: ["stage"], soakMs: 600_000, digestOnly: true, approvals: { count: 1, groups: ["sre"] } };
  const now = new Date("2026-12-06T10:00:00Z");
  const input = { policy, release, requestedBy: "alice", rollback: false, upstream: [{ environment: "stage", succeededAt: new Date("2026-12-06T09:55:00Z") }], approvals: [], now };

  it("soak pending until its end, approvals pending, then all pass", () => {
    const pending = evaluateGates(input);
    expect(pending.find((g) => g.gate === "soak")).toMatchObject({ verdict: "pending", until: "2026-12-06T10:05:00.000Z" });
    expect(pending.find((g) => g.gate === "approval")).toMatchObject({ verdict: "pending", message: "0 of 1 approval(s) from sre" });
    // Self-approval and approvers outside the group do not count.
    const notCounted = evaluateGates({ ...input, approvals: [{ subject: "alice", groups: ["sre"] }, { subject: "bob", groups: ["dev"] }] });
    expect(notCounted.find((g) => g.gate === "approval")!.verdict).toBe("pending");
    const later = evaluateGates({ ...input, now: new Date("2026-12-06T10:06:00Z"), approvals: [{ subject: "carol", groups: ["sre"] }] });
    expect(allPass(later)).toBe(true);
  });
  it("a tag-only image fails the digest gate where digests are required", () => {
    const gates = evaluateGates({ ...input, release: { ...release, images: [{ name: "ghcr.io/acme/shop", tag: "1.2" }] } });
    expect(gates.find((g) => g.gate === "digest-only")).toMatchObject({ verdict: "fail", message: "images not pinned by digest: ghcr.io/acme/shop:1.2" });
  });
  it("a rollback passes upstream, soak and approval gates", () => {
    expect(allPass(evaluateGates({ ...input, rollback: true, upstream: [] }))).toBe(true);
  });
});

describe("trailers", () => {
  it("round-trips through a commit message", () => {
    const msg = commitMessage("promote rel-shop-1 to prod: wave 1/3 (canary)", "Release rel-shop-1 of shop.", { Promotion: "prm-1", Release: "rel-shop-1", Wave: "1/3", ApprovedBy: "carol" });
    expect(msg).toContain("\n\nFlotilla-Promotion: prm-1\nFlotilla-Release: rel-shop-1\nFlotilla-Wave: 1/3\nFlotilla-Approved-By: carol\n");
    expect(parseTrailers(msg)).toEqual({ Promotion: "prm-1", Release: "rel-shop-1", Wave: "1/3", ApprovedBy: "carol" });
    expect(parseTrailers("just a subject")).toEqual({});
  });
});

describe("supersessions", () => {
  const entry = (id: string, release: number, over: Partial<QueueEntry> = {}): QueueEntry => ({
    id,
    app: "shop",
    environment: "prod",
    kind: PromotionKind.Promote,
    state: PromotionState.Pending,
    pausedFrom: null,
    committed: false,
    releaseId: `rel-shop-${release}`,
    releaseCreatedAt: new Date(Date.UTC(2026, 11, 1, release)).toISOString(),
    ...over,
  });
  const by = (open: QueueEntry[]) => supersessions(open).map((s) => [s.id, s.by]);

  it("queued promotions of older releases give way to the newest release's, whenever it was asked for", () => {
    expect(by([entry("p1", 1), entry("p2", 2), entry("p3", 3)])).toEqual([
      ["p1", "p3"],
      ["p2", "p3"],
    ]);
    // An older release asked for after a newer one is queued gives way at once.
    expect(by([entry("p3", 3), entry("p1", 1)])).toEqual([["p1", "p3"]]);
    // The newest may already run: what queues behind it for an older release gives way too.
    expect(by([entry("p2", 2, { state: PromotionState.Running, committed: true }), entry("p1", 1)])).toEqual([["p1", "p2"]]);
  });

  it("never a promotion that has a plan or a commit, never across apps or environments, never rollbacks", () => {
    expect(by([entry("p1", 1, { state: PromotionState.Running }), entry("p2", 2)])).toEqual([]);
    expect(by([entry("p1", 1, { state: PromotionState.Halted, committed: true }), entry("p2", 2)])).toEqual([]);
    expect(by([entry("p1", 1, { state: PromotionState.Paused, pausedFrom: PromotionState.Running }), entry("p2", 2)])).toEqual([]);
    expect(by([entry("p1", 1), entry("p2", 2, { environment: "stage" }), entry("p3", 3, { app: "cart" })])).toEqual([]);
    expect(by([entry("p1", 1, { kind: PromotionKind.Rollback }), entry("p2", 2)])).toEqual([]);
    expect(by([entry("p1", 1), entry("p2", 2, { kind: PromotionKind.Rollback })])).toEqual([]);
  });

  it("a promotion paused or errored before it started gives way too; the same instant orders by release id", () => {
    expect(by([entry("p1", 1, { state: PromotionState.Paused, pausedFrom: PromotionState.Pending }), entry("p2", 2)])).toEqual([["p1", "p2"]]);
    expect(by([entry("p1", 1, { state: PromotionState.Errored, pausedFrom: PromotionState.Pending }), entry("p2", 2)])).toEqual([["p1", "p2"]]);
    expect(by([entry("pa", 1, { releaseId: "rel-shop-b" }), entry("pb", 1, { releaseId: "rel-shop-a" })])).toEqual([["pb", "pa"]]);
  });
});
