// `flotilla break-glass open|list|close|audit`: suspend drift enforcement for a scope, for a
// bounded time, with a reason (POST /v1/clusters/:name/break-glass); the active windows
// (GET /v1/break-glass); end one early (DELETE …/break-glass/:id); the audit trail.
import type { BreakGlassScopeSpec, BreakGlassWindow } from "@flotilla/model";
import { ApiError } from "../client/http.js";
import { positionals, requireFlag, type Invocation } from "../client/command.js";
import { fields, printData, table } from "../client/output.js";
import { runVerbs, type Verb } from "../client/verbs.js";
import { expiryOf, scopeOf, scopeText } from "./break-glass-scope.js";
import { when } from "./drift.js";

type WindowBody = BreakGlassWindow & { controlGeneration?: number | null };

/** GET /v1/break-glass/audit, one entry (docs/api.md#break-glass). */
export interface BreakGlassAuditEntry {
  id: number;
  windowId: string;
  cluster: string;
  event: "started" | "ended" | "expired";
  actor: string;
  reason: string | null;
  at: string;
  window: { scope: BreakGlassScopeSpec; author: string; reason: string; expiresAt: string };
}

const SUMMARY = "Open, list and close break-glass windows: audited, expiring suspensions of drift enforcement.";

export function windowsTable(windows: BreakGlassWindow[]): string {
  return table(
    ["ID", "CLUSTER", "SCOPE", "AUTHOR", "STARTED", "EXPIRES", "REASON"],
    windows.map((w) => [w.id, w.cluster, scopeText(w.scope), w.author, when(w.startedAt), when(w.expiresAt), w.reason]),
  );
}

export function windowText(w: WindowBody): string {
  const pairs: [string, string][] = [
    ["Window", w.id],
    ["Cluster", w.cluster],
    ["Scope", scopeText(w.scope)],
    ["Reason", w.reason],
    ["Author", w.author],
    ["Started", when(w.startedAt)],
    ["Expires", when(w.expiresAt)],
  ];
  if (w.endedAt) pairs.push(["Ended", `${when(w.endedAt)} by ${w.endedBy ?? "-"}${w.endReason ? `: ${w.endReason}` : ""}`]);
  if (w.controlGeneration !== undefined) pairs.push(["Control record", w.controlGeneration === null ? "not published yet (the hub retries every second)" : `generation ${w.controlGeneration}`]);
  return fields(pairs);
}

export function auditTable(entries: BreakGlassAuditEntry[]): string {
  return table(
    ["AT", "CLUSTER", "WINDOW", "EVENT", "ACTOR", "SCOPE", "REASON"],
    entries.map((e) => [when(e.at), e.cluster, e.windowId, e.event, e.actor, scopeText(e.window.scope), e.reason ?? "-"]),
  );
}

/** The cluster of a window: --cluster, else the active windows, else the audit trail. */
async function clusterOfWindow(inv: Invocation, id: string): Promise<string> {
  const given = inv.str("cluster");
  if (given) return given;
  const active = await inv.client().get<BreakGlassWindow[]>("/v1/break-glass");
  const open = active.find((w) => w.id === id);
  if (open) return open.cluster;
  const audit = await inv.client().get<BreakGlassAuditEntry[]>("/v1/break-glass/audit", { limit: 1000 });
  const seen = audit.find((e) => e.windowId === id);
  if (seen) return seen.cluster;
  throw new ApiError(404, "FLOTILLA_ERR_NOT_FOUND", `no break-glass window ${id} among the active windows or the last 1000 audit entries; give --cluster if it is older`, "id");
}

const verbs: Verb[] = [
  {
    name: "open",
    summary: "open a window on a cluster: the whole cluster, one app (--app) or one object (--object)",
    usage: "CLUSTER --reason TEXT (--duration 30m | --until TIME) [--app A] [--object Kind[.group]/namespace/name] [-o table|json|yaml]",
    flags: [
      { name: "reason", type: "string", description: "why (an incident id, what you will change); required, recorded in the audit trail" },
      { name: "duration", type: "string", description: "how long, with a unit: 30m, 1h30m, at most 24h" },
      { name: "until", type: "string", description: "instead of --duration: the end, an ISO-8601 time with a zone" },
      { name: "app", type: "string", description: "only this app's objects (with --object: that app's object)" },
      { name: "object", type: "string", description: "only this object: Kind[.group]/namespace/name, Kind[.group]/name, or group/Kind/namespace/name" },
    ],
    async run(inv) {
      const [cluster] = positionals(inv, ["CLUSTER"]) as [string];
      const reason = requireFlag(inv, "reason", "why the window is needed (recorded in the audit trail)");
      const body = { scope: scopeOf(inv.str("app"), inv.str("object"), inv.spec.name), reason, ...expiryOf(inv.str("duration"), inv.str("until"), inv.spec.name) };
      const w = await inv.client().post<WindowBody>(`/v1/clusters/${encodeURIComponent(cluster)}/break-glass`, body);
      if (!printData(inv.format, w)) console.log(windowText(w));
      if (w.controlGeneration === null) console.error(`flotilla ${inv.spec.name}: the window is recorded but its control record is not published yet (NATS away?); agents keep enforcing until it is — the hub retries every second`);
      return 0;
    },
  },
  {
    name: "list",
    summary: "the active windows (not ended, not expired), oldest first",
    usage: "[--cluster C] [--active] [-o table|json|yaml]",
    flags: [
      { name: "cluster", type: "string", description: "only this cluster's windows" },
      { name: "active", type: "boolean", description: "only active windows: the default and the only kind the API lists (ended and expired ones are in `flotilla break-glass audit`)" },
    ],
    async run(inv) {
      positionals(inv, []);
      const cluster = inv.str("cluster");
      const windows = cluster ? await inv.client().get<BreakGlassWindow[]>(`/v1/clusters/${encodeURIComponent(cluster)}/break-glass`) : await inv.client().get<BreakGlassWindow[]>("/v1/break-glass");
      if (!printData(inv.format, windows)) console.log(windows.length ? windowsTable(windows) : `No active break-glass windows${cluster ? ` on ${cluster}` : ""}.`);
      return 0;
    },
  },
  {
    name: "close",
    summary: "end a window early: the agent re-checks every object at once and reverts what drifted",
    usage: "ID [--cluster C] [--reason TEXT] [-o table|json|yaml]",
    flags: [
      { name: "cluster", type: "string", description: "the window's cluster (default: looked up among the active windows and the audit trail)" },
      { name: "reason", type: "string", description: "why it ends now (recorded in the audit trail)" },
    ],
    async run(inv) {
      const [id] = positionals(inv, ["ID"]) as [string];
      const cluster = await clusterOfWindow(inv, id);
      const reason = inv.str("reason");
      const w = await inv.client().delete<WindowBody>(`/v1/clusters/${encodeURIComponent(cluster)}/break-glass/${encodeURIComponent(id)}`, reason ? { reason } : {});
      if (!printData(inv.format, w)) console.log(windowText(w));
      if (w.controlGeneration === null && w.endedBy !== undefined) console.error(`flotilla ${inv.spec.name}: window ${id} had already ended; nothing changed`);
      return 0;
    },
  },
  {
    name: "audit",
    summary: "every start, early end and expiry, newest first",
    usage: "[--cluster C] [--limit N] [-o table|json|yaml]",
    flags: [
      { name: "cluster", type: "string", description: "only this cluster" },
      { name: "limit", type: "string", description: "how many entries, 1 to 1000 (default 100)" },
    ],
    async run(inv) {
      positionals(inv, []);
      const entries = await inv.client().get<BreakGlassAuditEntry[]>("/v1/break-glass/audit", { cluster: inv.str("cluster"), limit: inv.str("limit") });
      if (!printData(inv.format, entries)) console.log(entries.length ? auditTable(entries) : "No break-glass audit entries.");
      return 0;
    },
  },
];

export function runBreakGlass(argv: string[]): Promise<number> {
  return runVerbs("break-glass", SUMMARY, verbs, argv);
}
