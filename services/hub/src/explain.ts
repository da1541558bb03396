// GET /v1/explain's reasoning: why cluster X is (not) running app A at revision R, from the
// hub's own state, each finding with the rows it rests on. Pure: the route gathers the inputs.
//
//   not in the fleet / app not selected → say so
//   R failed to render, or the hub has not resolved R yet → the cluster keeps its pointer
//   the pointer names another revision but R changed nothing for this cluster → ContentUnchanged
//   an open promotion of A into X's environment has not reached X (gates, a later wave, halted,
//   paused, a freeze window) → HeldByPromotion / FreezeWindow
//   agent silent past its heartbeat deadline → AgentOffline
//   agent has not reported on the current pointer → NotApplied; apply failed → ApplyFailed
//   objects Degraded, drift left open, a break-glass window → Degraded / DriftOpen / BreakGlass
import { ExplainReason, type BreakGlassWindow, type ExplainFinding, type GateResult } from "@flotilla/model";
import type { ClusterDetail, DriftEventView, PromotionClusterRow, PromotionRow } from "@flotilla/store";
import type { FreezeState } from "./promotion/freeze.js";

export interface ExplainInput {
  cluster: ClusterDetail;
  app: string;
  /** The revision asked about (default: the last revision the hub resolved). */
  revision: string;
  /** The revision the hub last resolved completely. */
  lastGood: string | undefined;
  appSelected: boolean;
  renderFailure: { revision: string; at: string; errors: unknown[] } | undefined;
  /** Open promotions of the app into the cluster's environment, with this cluster's row in each. */
  promotions: { promotion: PromotionRow; cluster: PromotionClusterRow | undefined }[];
  freeze: FreezeState;
  breakGlass: BreakGlassWindow[];
  openDrift: DriftEventView[];
  now: Date;
}

export interface Explanation {
  cluster: string;
  app: string;
  revision: string;
  /** True when the cluster runs the app's content of `revision`, applied and healthy. */
  atRevision: boolean;
  findings: ExplainFinding[];
}

/** Reasons that mean "not there (yet)"; the others describe the state it is in. */
const BLOCKING: readonly ExplainReason[] = [
  ExplainReason.AppNotSelected,
  ExplainReason.RenderFailed,
  ExplainReason.NotResolved,
  ExplainReason.HeldByPromotion,
  ExplainReason.AgentOffline,
  ExplainReason.NotApplied,
  ExplainReason.ApplyFailed,
  ExplainReason.Degraded,
];

export function explain(i: ExplainInput): Explanation {
  const f: ExplainFinding[] = [];
  const c = i.cluster;
  const add = (reason: ExplainReason, message: string, evidence: Record<string, unknown> = {}) => f.push({ reason, message, evidence });

  if (!i.appSelected) add(ExplainReason.AppNotSelected, `app ${i.app} is not selected for cluster ${c.name} in flotilla.yaml at ${short(i.lastGood)}`, { environment: c.environment, labels: c.labels });
  if (i.renderFailure && i.renderFailure.revision === i.revision) {
    add(ExplainReason.RenderFailed, `revision ${short(i.revision)} failed to render; every cluster keeps its last good pointer`, { renderFailure: i.renderFailure });
  } else if (i.lastGood !== undefined && i.revision !== i.lastGood && c.desired?.revision !== i.revision) {
    add(ExplainReason.NotResolved, `the hub has not resolved ${short(i.revision)}: its last good revision is ${short(i.lastGood)} (POST /v1/refresh fetches now)`, { lastGood: i.lastGood });
  } else if (c.desired && c.desired.revision !== i.revision && i.revision === i.lastGood) {
    add(ExplainReason.ContentUnchanged, `${short(i.revision)} renders cluster ${c.name} byte for byte as ${short(c.desired.revision)}, so its pointer (generation ${c.desired.generation}) still names ${short(c.desired.revision)}`, { desired: c.desired });
  }

  for (const { promotion: p, cluster: row } of i.promotions) {
    const evidence = { promotion: { id: p.id, state: p.state, release: p.release_id, wave: p.current_wave + 1, waves: p.plan.waves.length, reason: p.reason }, cluster: row ?? null };
    if (p.state === "Pending") {
      const waiting = (p.gates as GateResult[]).filter((g) => g.verdict !== "pass").map((g) => `${g.gate}: ${g.message}${g.until ? ` (until ${g.until})` : ""}`);
      add(ExplainReason.HeldByPromotion, `promotion ${p.id} of ${p.release_id} into ${p.environment} has not started${waiting.length ? `: ${waiting.join("; ")}` : ""}`, { ...evidence, gates: p.gates });
    } else if (row && (row.outcome === "Pending" || p.state === "Halted" || p.state === "Paused")) {
      const why = p.state === "Halted" ? `it is Halted (${p.reason})` : p.state === "Paused" ? "it is Paused" : `wave ${row.wave + 1} (${p.plan.waves[row.wave]?.name}) has not started; wave ${p.current_wave + 1} is running`;
      if (row.outcome === "Pending") add(ExplainReason.HeldByPromotion, `promotion ${p.id} of ${p.release_id} has not reached ${c.name}: ${why}`, evidence);
    }
  }
  if (i.freeze.blocked && i.promotions.length) {
    add(ExplainReason.FreezeWindow, `a freeze window${i.freeze.window?.name ? ` "${i.freeze.window.name}"` : ""} blocks new waves in ${c.environment}${i.freeze.until ? ` until ${i.freeze.until}` : ""}`, { window: i.freeze.window ?? null });
  }

  const hb = c.lastHeartbeat;
  if (!hb) add(ExplainReason.AgentOffline, `no heartbeat from the agent of ${c.name} yet`, {});
  else if (i.now.getTime() - Date.parse(hb.at) > hb.deadlineSeconds * 1000) {
    add(ExplainReason.AgentOffline, `the agent of ${c.name} is silent since ${hb.at} (deadline ${hb.deadlineSeconds} s)`, { lastHeartbeat: hb });
  }
  const r = c.reported;
  if (c.desired && (!r || r.generation < c.desired.generation)) {
    add(ExplainReason.NotApplied, `the agent has not reported on pointer generation ${c.desired.generation} yet${r ? ` (last report: generation ${r.generation}, ${r.syncState}/${r.health})` : ""}`, { desired: c.desired, reported: r });
  }
  const app = c.apps.find((a) => a.name === i.app);
  if (c.syncState === "Failed" || c.lastError) {
    const failed = app?.objects.filter((o) => o.action === "failed") ?? [];
    add(ExplainReason.ApplyFailed, `the last apply on ${c.name} failed${c.lastError ? `: ${c.lastError.message}` : ""}`, { lastError: c.lastError, failedObjects: failed });
  }
  if ((app && app.health === "Degraded") || (!app && c.health === "Degraded")) {
    const bad = app?.objects.filter((o) => o.health === "Degraded") ?? [];
    add(ExplainReason.Degraded, `app ${i.app} is Degraded on ${c.name}: ${bad.map((o) => `${o.kind}/${o.name} (${o.healthReason ?? o.message ?? "Degraded"})`).join(", ") || "see its objects"}`, { objects: bad });
  }
  const drift = i.openDrift.filter((d) => d.app === i.app);
  if (drift.length) add(ExplainReason.DriftOpen, `${drift.length} open drift event(s) for ${i.app} on ${c.name} (${[...new Set(drift.map((d) => `${d.action} by ${d.actor}`))].join(", ")})`, { drift });
  if (i.breakGlass.length) add(ExplainReason.BreakGlass, `${i.breakGlass.length} break-glass window(s) open on ${c.name}: drift there is neither reverted nor blocked`, { windows: i.breakGlass });

  const blocked = f.some((x) => BLOCKING.includes(x.reason));
  const at = !blocked && c.syncState === "Synced" && c.health === "Healthy";
  if (at) f.unshift({ reason: ExplainReason.AtRevision, message: `${c.name} runs ${i.app} as of ${short(i.revision)}: applied, Synced and Healthy`, evidence: { desired: c.desired, reported: r } });
  return { cluster: c.name, app: i.app, revision: i.revision, atRevision: at, findings: f };
}

const short = (rev: string | undefined) => (rev ? rev.slice(0, 12) : "(none)");
