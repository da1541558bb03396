// `environments[].promotion` of the fleet file: the pipeline a release travels (docs/promotion.md).
// Checked by hand like the rest of the fleet file, so every error names the file, line and field.
// An environment without a `promotion` block takes releases by hand, in one wave, with no gates.
import type { ApprovalPolicy, Cluster, Environment, FreezeWindow, PromotionPolicy, RolloutSpec, WaveSpec } from "@flotilla/model";
import { parseDuration } from "./duration.js";

type Path = (string | number)[];
type Obj = Record<string, unknown>;

/** What the pipeline reader needs of the fleet file checker (its error and shape helpers). */
export interface FieldChecker {
  fail(path: Path, what: string, atKey?: boolean): void;
  object(v: unknown, path: Path): Obj | undefined;
  onlyFields(o: Obj, path: Path, allowed: string[]): void;
  bool(v: unknown, path: Path): boolean;
  stringMap(v: unknown, path: Path): Record<string, string>;
  stringList(v: unknown, path: Path, opts: { nonEmpty?: boolean; among?: [string, string[]] }): string[];
}

export const DEFAULT_ROLLOUT: Omit<RolloutSpec, "waves"> = {
  progressDeadlineMs: 10 * 60_000,
  minHealthyMs: 10_000,
  unknownAfterMs: 5 * 60_000,
};

/** The policy of an environment without a `promotion` block. */
export function defaultPromotionPolicy(): PromotionPolicy {
  return {
    from: [],
    autoPromote: false,
    soakMs: 0,
    approvals: { count: 0 },
    freeze: [],
    digestOnly: false,
    rollout: { ...DEFAULT_ROLLOUT, waves: [{ name: "all", percent: 100 }] },
  };
}

const PROMOTION_FIELDS = ["from", "autoPromote", "soak", "approvals", "freeze", "digestOnly", "rollout"];
const APPROVAL_FIELDS = ["count", "groups", "allowSelfApproval"];
const FREEZE_FIELDS = ["name", "kind", "start", "end", "days", "from", "to", "allowRollback"];
const ROLLOUT_FIELDS = ["progressDeadline", "minHealthy", "unknownAfter", "totalFailureBudget", "waves"];
const WAVE_FIELDS = ["name", "clusters", "selector", "percent", "failureBudget", "soak", "pause"];
const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const HH_MM = /^([01]\d|2[0-3]):[0-5]\d$/;

/**
 * Reads `environments[index].promotion`. `earlier` are the environments listed before this one:
 * a release flows down the list, so upstream environments must come first (no cycles possible).
 */
export function readPromotionPolicy(c: FieldChecker, v: unknown, path: Path, env: Environment, earlier: string[], clusters: Cluster[]): PromotionPolicy {
  const policy = defaultPromotionPolicy();
  const o = c.object(v, path);
  if (!o) return policy;
  c.onlyFields(o, path, PROMOTION_FIELDS);
  if (o.from !== undefined) {
    const fp = [...path, "from"];
    policy.from = c.stringList(o.from, fp, {});
    policy.from.forEach((name, i) => {
      if (name === env.name) c.fail([...fp, i], `"${name}" is this environment; list the environments a release must pass first`);
      else if (!earlier.includes(name)) {
        c.fail([...fp, i], `"${name}" is not an environment listed before ${env.name}${earlier.length ? ` (${earlier.join(", ")})` : ""}; list environments in pipeline order`);
      }
    });
  }
  if (o.autoPromote !== undefined) policy.autoPromote = c.bool(o.autoPromote, [...path, "autoPromote"]);
  if (o.soak !== undefined) policy.soakMs = duration(c, o.soak, [...path, "soak"]);
  if (o.digestOnly !== undefined) policy.digestOnly = c.bool(o.digestOnly, [...path, "digestOnly"]);
  if (o.approvals !== undefined) policy.approvals = approvals(c, o.approvals, [...path, "approvals"]);
  if (o.freeze !== undefined) {
    const fp = [...path, "freeze"];
    if (!Array.isArray(o.freeze)) c.fail(fp, "must be a list of freeze windows ({kind: deny|allow, start/end or days/from/to})");
    else policy.freeze = o.freeze.map((w, i) => freezeWindow(c, w, [...fp, i]));
  }
  if (o.rollout !== undefined) {
    const envClusters = clusters.filter((cl) => cl.environment === env.name);
    policy.rollout = rollout(c, o.rollout, [...path, "rollout"], env, envClusters);
  }
  return policy;
}

function approvals(c: FieldChecker, v: unknown, path: Path): ApprovalPolicy {
  const o = c.object(v, path) ?? {};
  c.onlyFields(o, path, APPROVAL_FIELDS);
  const out: ApprovalPolicy = { count: 0 };
  if (o.count !== undefined) out.count = count(c, o.count, [...path, "count"]);
  if (o.groups !== undefined) out.groups = c.stringList(o.groups, [...path, "groups"], { nonEmpty: true });
  if (o.allowSelfApproval !== undefined) out.allowSelfApproval = c.bool(o.allowSelfApproval, [...path, "allowSelfApproval"]);
  return out;
}

function freezeWindow(c: FieldChecker, v: unknown, path: Path): FreezeWindow {
  const o = c.object(v, path) ?? {};
  c.onlyFields(o, path, FREEZE_FIELDS);
  const w: FreezeWindow = { kind: "deny" };
  if (o.name !== undefined) w.name = text(c, o.name, [...path, "name"]);
  if (o.kind !== undefined) {
    if (o.kind === "deny" || o.kind === "allow") w.kind = o.kind;
    else c.fail([...path, "kind"], `${JSON.stringify(o.kind)} is not one of deny, allow`);
  }
  if (o.allowRollback !== undefined) w.allowRollback = c.bool(o.allowRollback, [...path, "allowRollback"]);
  const absolute = o.start !== undefined || o.end !== undefined;
  const weekly = o.days !== undefined || o.from !== undefined || o.to !== undefined;
  if (absolute === weekly) {
    c.fail(path, "needs either start and end (RFC 3339 times) or days with from and to (HH:MM, UTC)");
    return w;
  }
  if (absolute) {
    for (const k of ["start", "end"] as const) {
      const val = o[k];
      // YAML 1.1 reads an unquoted timestamp as a date: accept it as such.
      const iso = val instanceof Date ? val.toISOString() : typeof val === "string" && !Number.isNaN(Date.parse(val)) ? new Date(val).toISOString() : undefined;
      if (iso === undefined) c.fail([...path, k], `${val === undefined ? "is missing" : `${JSON.stringify(val)} is not a time`}; write an RFC 3339 time such as 2026-12-24T00:00:00Z`);
      else w[k] = iso;
    }
    if (w.start && w.end && w.start >= w.end) c.fail([...path, "end"], `must be after start (${w.start})`);
    return w;
  }
  if (o.days === undefined) c.fail([...path, "days"], `is missing; list days among ${DAYS.join(", ")}`);
  else {
    w.days = c.stringList(o.days, [...path, "days"], { nonEmpty: true, among: ["days", DAYS] });
  }
  for (const k of ["from", "to"] as const) {
    const val = o[k];
    // YAML 1.1 reads 10:30 as a sexagesimal number; ask for quotes rather than guess.
    if (typeof val !== "string" || !HH_MM.test(val)) c.fail([...path, k], `${val === undefined ? "is missing" : `${JSON.stringify(val)} is not a time of day`}; write "HH:MM" in quotes (UTC)`);
    else w[k] = val;
  }
  return w;
}

function rollout(c: FieldChecker, v: unknown, path: Path, env: Environment, envClusters: Cluster[]): RolloutSpec {
  const o = c.object(v, path) ?? {};
  c.onlyFields(o, path, ROLLOUT_FIELDS);
  const spec: RolloutSpec = { ...DEFAULT_ROLLOUT, waves: [{ name: "all", percent: 100 }] };
  if (o.progressDeadline !== undefined) spec.progressDeadlineMs = duration(c, o.progressDeadline, [...path, "progressDeadline"], true);
  if (o.minHealthy !== undefined) spec.minHealthyMs = duration(c, o.minHealthy, [...path, "minHealthy"]);
  if (o.unknownAfter !== undefined) spec.unknownAfterMs = duration(c, o.unknownAfter, [...path, "unknownAfter"], true);
  if (o.totalFailureBudget !== undefined) spec.totalFailureBudget = count(c, o.totalFailureBudget, [...path, "totalFailureBudget"]);
  if (o.waves !== undefined) {
    const wp = [...path, "waves"];
    if (!Array.isArray(o.waves) || o.waves.length === 0) c.fail(wp, "must be a list of at least one wave ({clusters}, {selector} or {percent})");
    else {
      const names = envClusters.map((cl) => cl.name);
      let lastPercent = 0;
      spec.waves = o.waves.map((w, i) => {
        const wave = waveSpec(c, w, [...wp, i], env, names);
        if (wave.percent !== undefined) {
          if (wave.percent <= lastPercent) c.fail([...wp, i, "percent"], `${wave.percent} must be more than the previous wave's ${lastPercent}: percentages are cumulative`);
          lastPercent = wave.percent;
        }
        return wave;
      });
      const seen = new Set<string>();
      spec.waves.forEach((w, i) => {
        w.name ??= `wave-${i + 1}`;
        if (seen.has(w.name)) c.fail([...wp, i, "name"], `"${w.name}" names an earlier wave too; wave names must be unique`);
        seen.add(w.name);
      });
    }
  }
  return spec;
}

function waveSpec(c: FieldChecker, v: unknown, path: Path, env: Environment, clusterNames: string[]): WaveSpec {
  const o = c.object(v, path) ?? {};
  c.onlyFields(o, path, WAVE_FIELDS);
  const wave: WaveSpec = {};
  if (o.name !== undefined) wave.name = text(c, o.name, [...path, "name"]);
  const given = ["clusters", "selector", "percent"].filter((k) => o[k] !== undefined);
  if (given.length !== 1) {
    c.fail(path, `needs exactly one of clusters, selector, percent${given.length ? ` (found ${given.join(" and ")})` : ""}`);
  }
  if (o.clusters !== undefined) {
    wave.clusters = c.stringList(o.clusters, [...path, "clusters"], { nonEmpty: true, among: [`clusters of environment ${env.name}`, clusterNames] });
  }
  if (o.selector !== undefined) {
    const sp = [...path, "selector"];
    const s = c.object(o.selector, sp) ?? {};
    c.onlyFields(s, sp, ["matchLabels"]);
    wave.selector = { matchLabels: s.matchLabels === undefined ? {} : c.stringMap(s.matchLabels, [...sp, "matchLabels"]) };
  }
  if (o.percent !== undefined) {
    const p = o.percent;
    if (typeof p !== "number" || !Number.isInteger(p) || p < 1 || p > 100) c.fail([...path, "percent"], `${JSON.stringify(p)} must be a whole number from 1 to 100 (the cumulative share of the environment's clusters)`);
    else wave.percent = p;
  }
  if (o.failureBudget !== undefined) wave.failureBudget = count(c, o.failureBudget, [...path, "failureBudget"]);
  if (o.soak !== undefined) wave.soakMs = duration(c, o.soak, [...path, "soak"]);
  if (o.pause !== undefined) wave.pauseMs = duration(c, o.pause, [...path, "pause"]);
  return wave;
}

function duration(c: FieldChecker, v: unknown, path: Path, positive = false): number {
  const ms = typeof v === "string" ? parseDuration(v) : v === 0 ? 0 : undefined;
  if (ms === undefined) {
    c.fail(path, `${JSON.stringify(v)} is not a duration; write it with a unit, such as 30s, 10m or 1h30m`);
    return 0;
  }
  if (positive && ms === 0) c.fail(path, "must be longer than 0");
  return ms;
}

function count(c: FieldChecker, v: unknown, path: Path): number {
  if (typeof v === "number" && Number.isInteger(v) && v >= 0) return v;
  c.fail(path, `${JSON.stringify(v)} must be a whole number, 0 or more`);
  return 0;
}

function text(c: FieldChecker, v: unknown, path: Path): string {
  if (typeof v === "string" && v.trim() !== "") return v;
  c.fail(path, `${JSON.stringify(v)} must be a non-empty string`);
  return "";
}
