import { describe, expect, it } from "vitest";
import { parseDuration, formatDuration, readFleet } from "@flotilla/envrepo";

const fleetWith = (promotion: string, extra = "") => `apiVersion: flotilla.dev/v1alpha1
environments:
  - name: dev
    promotion:
      autoPromote: true
  - name: stage
    promotion:
      from: [dev]
      soak: 5m
  - name: prod
    promotion:
${promotion
  .split("\n")
  .map((l) => (l ? `      ${l}` : l))
  .join("\n")}
clusters:
  - { name: dev-1, environment: dev }
  - { name: stage-1, environment: stage }
  - { name: prod-1, environment: prod, labels: { ring: canary } }
  - { name: prod-2, environment: prod }
  - { name: prod-3, environment: prod }
${extra}
apps:
  - { name: shop, path: apps/shop }
`;

const PROD = `from: [stage]
soak: 1h30m
digestOnly: true
approvals: { count: 1, groups: [sre] }
freeze:
  - { name: holidays, kind: deny, start: "2026-12-24T00:00:00Z", end: "2026-12-27T00:00:00Z" }
  - { name: weekdays, kind: allow, days: [mon, tue, wed, thu, fri], from: "08:00", to: "17:00", allowRollback: false }
rollout:
  progressDeadline: 10m
  minHealthy: 30s
  unknownAfter: 2m
  totalFailureBudget: 1
  waves:
    - { name: canary, selector: { matchLabels: { ring: canary } } }
    - { name: half, percent: 50, failureBudget: 1, soak: 5m }
    - { name: all, percent: 100, failureBudget: 1, pause: 1m }`;

function firstError(text: string): string {
  const r = readFleet(text);
  if (r.ok) throw new Error("expected the fleet file to be refused");
  return r.errors.map((e) => e.message).join("\n");
}

describe("fleet file: promotion pipeline", () => {
  it("reads the pipeline of every environment", () => {
    const r = readFleet(fleetWith(PROD));
    if (!r.ok) throw new Error(r.errors.map((e) => e.message).join("\n"));
    const [dev, stage, prod] = r.fleet.environments;
    expect(dev!.promotion).toMatchObject({ from: [], autoPromote: true, soakMs: 0, approvals: { count: 0 } });
    expect(stage!.promotion).toMatchObject({ from: ["dev"], soakMs: 300_000 });
    expect(prod!.promotion).toEqual({
      from: ["stage"],
      autoPromote: false,
      soakMs: 5_400_000,
      digestOnly: true,
      approvals: { count: 1, groups: ["sre"] },
      freeze: [
        { name: "holidays", kind: "deny", start: "2026-12-24T00:00:00.000Z", end: "2026-12-27T00:00:00.000Z" },
        { name: "weekdays", kind: "allow", days: ["mon", "tue", "wed", "thu", "fri"], from: "08:00", to: "17:00", allowRollback: false },
      ],
      rollout: {
        progressDeadlineMs: 600_000,
        minHealthyMs: 30_000,
        unknownAfterMs: 120_000,
        totalFailureBudget: 1,
        waves: [
          { name: "canary", selector: { matchLabels: { ring: "canary" } } },
          { name: "half", percent: 50, failureBudget: 1, soakMs: 300_000 },
          { name: "all", percent: 100, failureBudget: 1, pauseMs: 60_000 },
        ],
      },
    });
  });

  it("an environment without a promotion block has no promotion policy (by hand, one wave)", () => {
    const r = readFleet(fleetWith("from: [stage]").replace("  - name: dev\n    promotion:\n      autoPromote: true\n", "  - name: dev\n"));
    if (!r.ok) throw new Error(r.errors.map((e) => e.message).join("\n"));
    expect(r.fleet.environments[0]!.promotion).toBeUndefined();
    expect(r.fleet.environments[2]!.promotion!.rollout.waves).toEqual([{ name: "all", percent: 100 }]);
  });

  it.each([
    ["from: [qa]", /environments\[2\]\.promotion\.from\[0\] "qa" is not an environment listed before prod \(dev, stage\)/],
    ["from: [prod]", /from\[0\] "prod" is this environment/],
    ["soak: 600", /environments\[2\]\.promotion\.soak 600 is not a duration; write it with a unit/],
    ["soak: 10 minutes", /soak "10 minutes" is not a duration/],
    ["approvals: { count: -1 }", /approvals\.count -1 must be a whole number/],
    ["approvals: { cuont: 1 }", /approvals\.cuont is not a known field; expected one of count, groups, allowSelfApproval/],
    ["autoPromote: yes please", /autoPromote "yes please" must be true or false/],
    ["freeze: [{ kind: deny }]", /freeze\[0\] needs either start and end .* or days with from and to/],
    ["freeze: [{ kind: block, days: [sat], from: '00:00', to: '23:59' }]", /freeze\[0\]\.kind "block" is not one of deny, allow/],
    ["freeze: [{ days: [sat], from: 10:30, to: '23:59' }]", /freeze\[0\]\.from 630 is not a time of day; write "HH:MM" in quotes/],
    ["freeze: [{ days: [saturday], from: '00:00', to: '23:59' }]", /freeze\[0\]\.days\[0\] "saturday" is not one of the days/],
    ["freeze: [{ start: '2026-12-27T00:00:00Z', end: '2026-12-24T00:00:00Z' }]", /freeze\[0\]\.end must be after start/],
    ["rollout: { waves: [] }", /rollout\.waves must be a list of at least one wave/],
    ["rollout: { waves: [{ percent: 50, clusters: [prod-1] }] }", /waves\[0\] needs exactly one of clusters, selector, percent \(found clusters and percent\)/],
    ["rollout: { waves: [{ clusters: [stage-1] }] }", /waves\[0\]\.clusters\[0\] "stage-1" is not one of the clusters of environment prod \(prod-1, prod-2, prod-3\)/],
    ["rollout: { waves: [{ percent: 50 }, { percent: 40 }] }", /waves\[1\]\.percent 40 must be more than the previous wave's 50/],
    ["rollout: { waves: [{ percent: 150 }] }", /waves\[0\]\.percent 150 must be a whole number from 1 to 100/],
    ["rollout: { waves: [{ name: a, percent: 10 }, { name: a, percent: 100 }] }", /waves\[1\]\.name "a" names an earlier wave too/],
    ["rollout: { progressDeadline: 0 }", /rollout\.progressDeadline must be longer than 0/],
    ["rollout: { waves: [{ percent: 100, failureBudget: 1.5 }] }", /waves\[0\]\.failureBudget 1.5 must be a whole number/],
  ])("refuses %s with an error naming the file, line and field", (promotion, message) => {
    const text = fleetWith(promotion);
    const errors = firstError(text);
    expect(errors).toMatch(message);
    expect(errors).toMatch(/^flotilla\.yaml:\d+: environments\[2\]\.promotion/);
  });
});

describe("durations", () => {
  it.each([
    ["30s", 30_000],
    ["10m", 600_000],
    ["1h30m", 5_400_000],
    ["500ms", 500],
    ["2d", 172_800_000],
    ["1.5s", 1_500],
    ["0", 0],
  ])("%s is %d ms", (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });
  it.each(["", "10", "m", "10 m", "-5s", "1x"])("%j is not a duration", (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
  it("formats the shortest exact spelling", () => {
    expect(formatDuration(5_400_000)).toBe("1h30m");
    expect(formatDuration(90_500)).toBe("1m30s500ms");
    expect(formatDuration(0)).toBe("0s");
  });
});
