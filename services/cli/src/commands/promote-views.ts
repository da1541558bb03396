// What people read of promotions: the list, one promotion (gates, approvals, waves, per-cluster
// outcomes, budget, commits), environments with holds and freeze state, releases.
import type { FreezeWindow, Release, WaveSpec } from "@flotilla/model";
import { dash, fields, shortDigest, shortRev, table } from "../client/output.js";
import { when } from "./drift.js";
import type { EnvironmentView, PromotionDetail, PromotionSummary, ReleaseCreated } from "./promote-types.js";

const wave = (p: PromotionSummary): string => (p.waveCount ? `${p.currentWave}/${p.waveCount}` : "-");

export function promotionsTable(list: PromotionSummary[]): string {
  return table(
    ["ID", "APP", "ENVIRONMENT", "RELEASE", "KIND", "STATE", "WAVE", "REQUESTED BY", "CREATED", "REASON"],
    list.map((p) => [p.id, p.app, p.environment, p.releaseId, p.kind, p.state, wave(p), `${p.requestedBy}${p.auto ? " (auto)" : ""}`, when(p.createdAt), dash(p.reason)]),
  );
}

export const imageText = (i: Release["images"][number]): string => `${i.name}${i.tag ? `:${i.tag}` : ""}${i.digest ? `@${i.digest}` : ""}`;

export function releaseLine(r: Release | string): string {
  if (typeof r === "string") return r;
  return `${r.id} (source ${shortRev(r.sourceRevision)}, ${r.images.map(imageText).join(", ")})`;
}

export function promotionText(p: PromotionDetail): string {
  const pairs: [string, string][] = [
    ["Promotion", p.id],
    ["App", p.app],
    ["Environment", p.environment],
    ["Release", releaseLine(p.release)],
    ["Kind", p.kind === "rollback" ? `rollback of ${p.rollbackOf ?? "-"}` : p.kind],
    ["State", `${p.state}${p.reason ? `: ${p.reason}` : ""}`],
    ...(p.supersededBy ? [["Superseded by", p.supersededBy] as [string, string]] : []),
    ["Requested", `${p.requestedBy}${p.auto ? " (auto-promotion)" : ""} at ${when(p.createdAt)}`],
    ["Wave", p.waveCount ? `${p.currentWave} of ${p.waveCount}` : "- (not planned yet)"],
    ["Budget", p.waveCount ? `${p.budget.failed} failed of ${p.budget.totalFailureBudget} allowed (${p.budget.remaining} remaining)` : "-"],
    ["Rollout", p.waveCount ? `progressDeadline ${p.rollout.progressDeadline}, minHealthy ${p.rollout.minHealthy}, unknownAfter ${p.rollout.unknownAfter}` : "-"],
    ["Base revision", shortRev(p.baseRevision)],
    ["Previous", dash(p.previousRelease)],
  ];
  if (p.finishedAt) pairs.push(["Finished", when(p.finishedAt)]);
  if (p.error) pairs.push(["Error", `${p.error.code}: ${p.error.message}`]);
  const out = [fields(pairs)];
  out.push("", p.gates.length ? table(["GATE", "VERDICT", "UNTIL", "MESSAGE"], p.gates.map((g) => [g.gate, g.verdict, when(g.until), g.message])) : "No gates waiting.");
  if (p.approvals.length) out.push("", table(["APPROVAL", "BY", "GROUPS", "AT", "COMMENT"], p.approvals.map((a) => [a.verdict, a.subject, a.groups.join(",") || "-", when(a.at), a.comment ?? "-"])));
  if (p.waves.length) {
    out.push("", table(["WAVE", "NAME", "STATE", "FAILED", "BUDGET", "SOAK", "PAUSE", "COMMIT"], p.waves.map((w) => [w.index, w.name, w.state, w.failed, w.failureBudget, w.soak, w.pause, shortRev(w.commit)])));
    const rows = p.waves.flatMap((w) => w.clusters.map((c) => [w.index, c.cluster, c.outcome, dash(c.generation), shortDigest(c.bundleDigest), when(c.issuedAt), c.skippedBy ? `skipped by ${c.skippedBy}: ${c.message ?? ""}` : dash(c.message)]));
    out.push("", table(["WAVE", "CLUSTER", "OUTCOME", "GEN", "BUNDLE", "ISSUED", "MESSAGE"], rows));
  }
  if (p.commits.length) out.push("", table(["WAVE", "COMMIT", "AT"], p.commits.map((c) => [c.wave + 1, c.revision, when(c.at)])));
  return out.join("\n");
}

function freezeWindowText(w: FreezeWindow): string {
  return w.days ? `${w.days.join(",")} ${w.from ?? "00:00"}–${w.to ?? "24:00"} UTC` : `${when(w.start)} – ${when(w.end)}`;
}

function waveSpecText(w: WaveSpec, i: number): string {
  const who = w.clusters ? w.clusters.join(",") : w.selector ? Object.entries(w.selector.matchLabels).map(([k, v]) => `${k}=${v}`).join(",") : `${w.percent ?? 100}%`;
  return `${w.name ?? `wave-${i + 1}`}(${who})`;
}

const freezeLine = (e: EnvironmentView): string =>
  e.freeze.blocked ? `blocked${e.freeze.window?.name ? ` by "${e.freeze.window.name}"` : ""}${e.freeze.until ? ` until ${when(e.freeze.until)}` : ""}` : "open";

const approvalsLine = (a: EnvironmentView["approvals"]): string =>
  a.count ? `${a.count}${a.groups?.length ? ` from ${a.groups.join(",")}` : ""}${a.allowSelfApproval ? ", self-approval allowed" : ""}` : "none";

export function environmentsTable(envs: EnvironmentView[]): string {
  return table(
    ["NAME", "FROM", "AUTO", "SOAK", "APPROVALS", "FREEZE", "CLUSTERS", "RELEASES", "HOLDS", "ACTIVE"],
    envs.map((e) => [
      e.name,
      e.from.join(",") || "-",
      e.autoPromote ? "yes" : "no",
      e.soak,
      approvalsLine(e.approvals),
      freezeLine(e),
      e.clusters.length,
      Object.entries(e.releases).map(([app, r]) => `${app}=${r ?? "-"}`).join(" ") || "-",
      e.holds.length,
      e.promotions.length,
    ]),
  );
}

export function environmentText(e: EnvironmentView): string {
  const out = [
    fields([
      ["Environment", e.name],
      ["From", e.from.join(", ") || "- (entry environment)"],
      ["Auto-promote", e.autoPromote ? "yes" : "no"],
      ["Soak", e.soak],
      ["Approvals", approvalsLine(e.approvals)],
      ["Digest only", e.digestOnly ? "yes" : "no"],
      ["Waves", e.waves.length ? e.waves.map(waveSpecText).join(" → ") : "one wave, 100%"],
      ["Clusters", e.clusters.join(", ") || "-"],
      ["Freeze", freezeLine(e)],
    ]),
  ];
  if (e.freeze.windows.length) {
    out.push("", table(["FREEZE WINDOW", "KIND", "WHEN", "ROLLBACK"], e.freeze.windows.map((w) => [w.name ?? "-", w.kind, freezeWindowText(w), w.allowRollback === false ? "blocked" : "passes"])));
  }
  const apps = Object.entries(e.releases);
  if (apps.length) out.push("", table(["APP", "RELEASE"], apps.map(([app, r]) => [app, r ?? "- (not promoted: the manifests' own images)"])));
  out.push("", e.holds.length ? table(["HELD APP", "RELEASE", "BY", "AT", "REASON"], e.holds.map((h) => [h.app, h.releaseId, h.createdBy, when(h.createdAt), h.reason])) : "No holds.");
  out.push("", e.promotions.length ? promotionsTable(e.promotions) : "No open promotions.");
  return out.join("\n");
}

export function releasesTable(list: Release[]): string {
  return table(["ID", "APP", "SOURCE", "IMAGES", "BY", "CREATED", "NOTE"], list.map((r) => [r.id, r.app, shortRev(r.sourceRevision), r.images.map(imageText).join(" "), r.createdBy, when(r.createdAt), r.note ?? "-"]));
}

export function releaseCreatedText(r: ReleaseCreated): string {
  const head = `release ${r.release.id} ${r.created ? "recorded" : "already recorded (same app, source revision and images)"}: ${r.release.images.map(imageText).join(", ")}`;
  return r.promotions.length ? `${head}\n\n${promotionsTable(r.promotions)}` : head;
}
