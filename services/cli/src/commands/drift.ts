// `flotilla drift`: the drift ledger (GET /v1/drift), newest first, with the API's filters.
// A full page answers with an x-next-cursor header; --all follows it to the end.
import { parseDuration } from "@flotilla/envrepo";
import type { DriftEventBody } from "@flotilla/hub";
import { UsageError } from "../args.js";
import { positionals, runApi, withApiFlags, type Invocation } from "../client/command.js";
import type { Query } from "../client/http.js";
import { printData, table } from "../client/output.js";

const FILTERS = ["cluster", "app", "environment", "kind", "namespace", "actor", "action", "state"] as const;

export const driftCommand = withApiFlags({
  name: "drift",
  summary: "List drift events from the hub's drift ledger, newest first.",
  usage: "flotilla drift [--cluster C] [--app A] [--environment E] [--kind K] [--namespace N] [--actor FIELD_MANAGER] [--action A] [--state open|closed] [--since T] [--until T] [--limit N] [--all | --cursor X] [-o table|json|yaml]",
  flags: [
    { name: "cluster", type: "string", description: "only this cluster" },
    { name: "app", type: "string", description: "only this app" },
    { name: "environment", type: "string", description: "only clusters of this environment" },
    { name: "kind", type: "string", description: "only objects of this kind" },
    { name: "namespace", type: "string", description: "only objects in this namespace" },
    { name: "actor", type: "string", description: "only changes by this field manager (kubectl-edit, helm, …)" },
    { name: "action", type: "string", description: "reverted, left, blocked-by-break-glass, fight or revert-failed" },
    { name: "state", type: "string", description: "open (not resolved yet) or closed" },
    { name: "since", type: "string", description: "detected at or after: ISO-8601 time, a date, or a duration ago (2h, 30m, 7d)" },
    { name: "until", type: "string", description: "detected before: ISO-8601 time, a date, or a duration ago" },
    { name: "limit", type: "string", description: "events per page, 1 to 1000 (the hub's default is 100)" },
    { name: "cursor", type: "string", description: "continue after a previous page (its x-next-cursor)" },
    { name: "all", type: "boolean", description: "follow the pages to the end of the ledger" },
  ],
});

/** `2h` → the ISO time two hours ago; anything else goes to the API as given (it checks). */
export function timeArg(value: string | undefined, now = Date.now()): string | undefined {
  if (value === undefined) return undefined;
  const ms = /^\d/.test(value) && !/^\d{4}-/.test(value) ? parseDuration(value) : undefined;
  return ms !== undefined ? new Date(now - ms).toISOString() : value;
}

const compact = (v: unknown): string => {
  const s = JSON.stringify(v) ?? "undefined";
  return s.length > 24 ? `${s.slice(0, 21)}…` : s;
};

export function objectName(o: { kind: string; namespace: string; name: string }): string {
  return o.namespace ? `${o.kind}/${o.namespace}/${o.name}` : `${o.kind}/${o.name}`;
}

/** ISO time to the second, as a ledger is read against an incident's timeline. */
export const when = (iso: string | null | undefined): string => (iso ? iso.replace(/\.\d+Z$/, "Z") : "-");

export function driftTable(events: DriftEventBody[]): string {
  return table(
    ["DETECTED", "CLUSTER", "APP", "OBJECT", "CHANGES", "ACTOR", "POLICY", "ACTION", "STATE"],
    events.map((e) => [
      when(e.detectedAt),
      e.cluster,
      e.app,
      objectName(e.object),
      e.paths.map((p) => `${p.path} ${compact(p.desired)}→${compact(p.live)}`).join("; ") || "-",
      e.actor,
      e.policy,
      e.action,
      e.resolvedAt ? "closed" : "open",
    ]),
  );
}

export async function readDrift(inv: Invocation): Promise<{ events: DriftEventBody[]; next: string | null }> {
  const query: Query = {};
  for (const f of FILTERS) query[f] = inv.str(f);
  query.since = timeArg(inv.str("since"));
  query.until = timeArg(inv.str("until"));
  query.limit = inv.str("limit");
  let cursor = inv.str("cursor");
  if (cursor && inv.bool("all")) throw new UsageError("flotilla drift: --all starts at the newest event; give --cursor or --all, not both");
  const events: DriftEventBody[] = [];
  for (;;) {
    const res = await inv.client().request<DriftEventBody[]>("GET", "/v1/drift", { query: { ...query, cursor } });
    events.push(...res.body);
    const next = res.headers.get("x-next-cursor");
    if (!next || !inv.bool("all")) return { events, next };
    cursor = next;
  }
}

export function runDrift(argv: string[]): Promise<number> {
  return runApi(driftCommand, argv, async (inv) => {
    positionals(inv, []);
    const { events, next } = await readDrift(inv);
    if (!printData(inv.format, events)) console.log(events.length ? driftTable(events) : "No drift events.");
    if (next) console.error(`(more events: add --all, or --cursor ${next})`);
    return 0;
  });
}
