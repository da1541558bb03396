// One line per promotion event, for people watching `--wait` (stderr): wave started, pointers
// issued, cluster outcome changes, gates pending until …, state changes.
import type { GateResult } from "@flotilla/model";
import { shortRev } from "../client/output.js";
import { when } from "./drift.js";
import type { PromotionEvent } from "./promote-types.js";

/** The hub's own actors (its promotion controller, its sweeps): not worth a "by". */
const HUB_ACTORS = ["flotilla/promotion-controller", "flotilla-hub"];

const str = (v: unknown): string => (typeof v === "string" ? v : v === undefined || v === null ? "" : String(v));
const list = (v: unknown): string => (Array.isArray(v) ? v.map(str).join(", ") : str(v));

function gatesText(gates: GateResult[]): string {
  const open = gates.filter((g) => g.verdict !== "pass");
  if (!open.length) return "gates pass";
  return open.map((g) => `gate ${g.gate} ${g.verdict}: ${g.message}${g.until ? ` (until ${when(g.until)})` : ""}`).join("; ");
}

export function eventText(e: PromotionEvent): string {
  const d = e.data;
  const by = e.actor && !HUB_ACTORS.includes(e.actor) ? ` by ${e.actor}` : "";
  switch (e.type) {
    case "created":
      return `created${by}: ${str(d.release)} into ${str(d.environment)}${d.rollbackOf ? ` (rollback of ${str(d.rollbackOf)})` : ""}`;
    case "gate-changed":
      return gatesText((d.gates as GateResult[] | undefined) ?? []);
    case "approved":
      return `approved${by}${d.comment ? `: ${str(d.comment)}` : ""}`;
    case "rejected":
      return `rejected${by}${d.comment ? `: ${str(d.comment)}` : ""}`;
    case "wave-started":
      return `wave ${str(d.wave)}/${str(d.of)} (${str(d.name)}) started: ${list(d.clusters)}`;
    case "wave-committed":
      return `wave ${str(d.wave)} committed ${shortRev(str(d.revision))}`;
    case "pointers-issued": {
      const pointers = (d.pointers as { cluster: string; generation: number }[] | undefined) ?? [];
      return `wave ${str(d.wave)} pointers issued: ${pointers.map((p) => `${p.cluster} generation ${p.generation}`).join(", ")}`;
    }
    case "cluster-changed":
      return `${str(d.cluster)} (wave ${str(d.wave)}): ${str(d.from)} → ${str(d.to)}${d.message ? ` — ${str(d.message)}` : ""}`;
    case "wave-succeeded":
      return `wave ${str(d.wave)} (${str(d.name)}) settled: ${str(d.succeeded)} succeeded, ${str(d.failed)} failed, ${str(d.skipped)} skipped`;
    case "state-changed":
      return `state ${str(d.from)} → ${str(d.to)}${by}${d.reason ? `: ${str(d.reason)}` : ""}`;
    case "cluster-skipped":
      return `${str(d.cluster)} skipped${by} (was ${str(d.from)}): ${str(d.reason)}`;
    case "rolled-back":
      return `rolled back${by} by promotion ${str(d.rollback)}${d.reason ? `: ${str(d.reason)}` : ""}`;
    default:
      return `${e.type}${by} ${JSON.stringify(d)}`;
  }
}

export const progressLine = (e: PromotionEvent): string => `${when(e.at)}  ${eventText(e)}`;
