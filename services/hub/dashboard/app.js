// Flotilla dashboard: one ES module, no framework, no build step. Every view is a call to the
// fleet API with the bearer token the person entered (kept in sessionStorage, sent as
// `Authorization: Bearer …`); the page itself holds no data. Views are chosen by the URL hash:
//   #/fleet                     environment × cluster × app: sync, health, open drift, pinned release
//   #/clusters/<name>           pointer, last report, apps and objects, pointer history, open drift, windows
//   #/drift?app=&environment=&kind=&namespace=&cluster=&state=&limit=
//                               the drift ledger, filtered, with "More" following x-next-cursor
//   #/promotions                promotions (live)
//   #/promotions/<id>           gates, waves and each cluster's outcome, budget, commits, events (live)
//   #/break-glass               active windows, ended and expired ones, the audit trail
// Live views read GET /v1/promotion-events with fetch() and a stream reader rather than
// EventSource, which cannot send the Authorization header.

const TOKEN_KEY = "flotilla.token";
// The newest promotion event this tab has seen: the fleet and list views only need to know that
// something changed since, not the whole history again.
const EVENT_KEY = "flotilla.lastEventId";
const view = document.getElementById("view");
const alertBox = document.getElementById("alert");
const liveBox = document.getElementById("live");

// --- small DOM helpers ------------------------------------------------------------------------

/** Creates an element: attributes (class, text, on*, data-*, aria-*…) and children (strings are text, never HTML). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "text") el.textContent = String(v);
    else if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  append(el, children);
  return el;
}
function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const STATE_CLASS = {
  ok: ["Synced", "Healthy", "Succeeded", "Done", "pass", "closed", "reverted", "created", "configured", "unchanged", "ended", "approve"],
  info: ["Applying", "Progressing", "Issued", "Running", "Verifying", "Settled", "pending", "Pending", "Waiting", "active", "started"],
  warn: ["OutOfSync", "Suspended", "Paused", "SucceededWithExceptions", "Skipped", "open", "left", "blocked-by-break-glass", "expired", "Unknown", "skipped"],
  bad: ["Failed", "Degraded", "Missing", "TimedOut", "Regressed", "Halted", "Errored", "Aborted", "Rejected", "fail", "fight", "revert-failed", "failed", "reject"],
};
function badge(value, label) {
  const text = value ?? "—";
  const cls = Object.entries(STATE_CLASS).find(([, list]) => list.includes(text))?.[0] ?? "";
  return h("span", { class: `badge ${cls}`, "data-state": text }, label ?? text);
}
const short = (sha, n = 10) => (typeof sha === "string" ? (sha.startsWith("sha256:") ? `sha256:${sha.slice(7, 7 + n)}` : sha.slice(0, n)) : "—");
const mono = (text, title) => h("code", { title: title ?? text ?? undefined }, text ?? "—");
function time(iso) {
  if (!iso) return h("span", { class: "muted" }, "—");
  const d = new Date(iso);
  return h("time", { datetime: iso, title: iso }, `${d.toISOString().slice(0, 19).replace("T", " ")} (${ago(d)})`);
}
function ago(d) {
  const s = Math.round((Date.now() - d.getTime()) / 1000);
  const abs = Math.abs(s);
  const text = abs < 60 ? `${abs}s` : abs < 3600 ? `${Math.round(abs / 60)}m` : abs < 86400 ? `${Math.round(abs / 3600)}h` : `${Math.round(abs / 86400)}d`;
  return s >= 0 ? `${text} ago` : `in ${text}`;
}
/** `registry/name@sha256:0123456789ab…`: the digest's head; the whole reference is the title. */
const shortImage = (ref) => ref.replace(/@sha256:([0-9a-f]{12})[0-9a-f]{52}$/, "@sha256:$1…");
const clusterLink = (name) => h("a", { href: `#/clusters/${encodeURIComponent(name)}` }, name);
const promotionLink = (id) => h("a", { href: `#/promotions/${encodeURIComponent(id)}` }, id);
const objectRef = (o) => `${o.kind} ${o.namespace ? `${o.namespace}/` : ""}${o.name}${o.group ? ` (${o.group})` : ""}`;

/** A semantic table: a caption, column headers, one row per item; the first cell may be a row header. */
function table({ caption, columns, rows, empty = "None.", rowHeader = false, attrs = {} }) {
  if (rows.length === 0) return h("p", { class: "muted", ...attrs }, caption ? `${caption}: ${empty}` : empty);
  return h(
    "table",
    attrs,
    caption ? h("caption", {}, caption) : null,
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c)))),
    h(
      "tbody",
      {},
      rows.map((cells) => {
        return h("tr", cells.attrs ?? {}, cells.map((c, i) => h(i === 0 && rowHeader ? "th" : "td", i === 0 && rowHeader ? { scope: "row" } : {}, c)));
      }),
    ),
  );
}
function facts(pairs) {
  return h("dl", { class: "facts" }, pairs.filter(Boolean).map(([k, v]) => [h("dt", {}, k), h("dd", {}, v ?? "—")]));
}
/** Facts in two columns of pairs, for pages with many of them. */
function facts2(pairs) {
  const el = facts(pairs);
  el.classList.add("two");
  return el;
}
function withAttrs(cells, attrs) {
  cells.attrs = attrs;
  return cells;
}

// --- the API ----------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, code, message, path) {
    super(message);
    this.status = status;
    this.code = code;
    this.path = path;
  }
}
const token = () => sessionStorage.getItem(TOKEN_KEY) ?? "";
const authHeaders = () => (token() ? { authorization: `Bearer ${token()}` } : {});

async function errorOf(res, path) {
  let code = `HTTP_${res.status}`;
  let message = res.statusText;
  try {
    const body = await res.json();
    if (body?.error) ({ code, message } = body.error);
  } catch {
    // not JSON: keep the status line
  }
  return new ApiError(res.status, code, message, path);
}

/** GETs an API path; answers the parsed body and the response headers, or throws ApiError. */
async function api(path, { signal } = {}) {
  const res = await fetch(path, { headers: { accept: "application/json", ...authHeaders() }, signal, cache: "no-store" });
  if (!res.ok) throw await errorOf(res, path);
  return { body: await res.json(), headers: res.headers };
}
const get = async (path, opts) => (await api(path, opts)).body;
/** Like get, but a 404 (a route this hub does not serve, e.g. without promotion) is null. */
async function optional(path, opts) {
  try {
    return await get(path, opts);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404) return null;
    throw err;
  }
}

function showError(err) {
  if (err?.name === "AbortError") return;
  alertBox.hidden = false;
  alertBox.replaceChildren();
  if (err instanceof ApiError && err.status === 401) {
    alertBox.className = "unauthorized";
    append(alertBox, [h("strong", {}, "Unauthorized (401). "), `${err.message} `, h("span", {}, token() ? "The token was refused: enter another one above." : "Enter an API token above (flotilla token mint).")]);
    document.getElementById("token").focus();
  } else if (err instanceof ApiError && err.status === 403) {
    alertBox.className = "forbidden";
    append(alertBox, [h("strong", {}, "Forbidden (403). "), err.message]);
  } else if (err instanceof ApiError) {
    alertBox.className = "error";
    append(alertBox, [h("strong", {}, `${err.status} ${err.code}. `), `${err.message} (${err.path})`]);
  } else {
    alertBox.className = "error";
    append(alertBox, [h("strong", {}, "Error. "), String(err?.message ?? err)]);
  }
}
function clearError() {
  alertBox.hidden = true;
  alertBox.className = "";
  alertBox.replaceChildren();
}

// --- the promotion event stream ----------------------------------------------------------------

/**
 * Reads GET /v1/promotion-events (server-sent events) with fetch, so the token goes in the
 * Authorization header; reconnects with Last-Event-ID after a drop. Calls onEvent({id, type,
 * data}) per event and onState("live" | "reconnecting" | "refused", error?) as the connection goes.
 */
function streamEvents({ promotion, from = 0, signal, onEvent, onState }) {
  let last = from;
  const run = async () => {
    let backoff = 500;
    while (!signal.aborted) {
      try {
        const q = promotion ? `?promotion=${encodeURIComponent(promotion)}` : "";
        const res = await fetch(`/v1/promotion-events${q}`, {
          headers: { accept: "text/event-stream", ...authHeaders(), ...(last ? { "last-event-id": String(last) } : {}) },
          signal,
          cache: "no-store",
        });
        if (!res.ok) {
          const err = await errorOf(res, "/v1/promotion-events");
          if (res.status === 401 || res.status === 403) return onState("refused", err);
          throw err;
        }
        onState("live");
        backoff = 500;
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value.replace(/\r\n?/g, "\n");
          let end;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            const frame = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            const event = parseFrame(frame);
            if (!event) continue;
            if (event.id) last = Number(event.id);
            onEvent(event);
          }
        }
      } catch (err) {
        if (signal.aborted) return;
        onState("reconnecting", err);
      }
      if (signal.aborted) return;
      onState("reconnecting");
      await new Promise((resolve) => {
        const t = setTimeout(resolve, backoff);
        signal.addEventListener("abort", () => (clearTimeout(t), resolve()), { once: true });
      });
      backoff = Math.min(backoff * 2, 10_000);
    }
  };
  void run();
}
function parseFrame(frame) {
  let id;
  let type = "message";
  const data = [];
  for (const line of frame.split("\n")) {
    if (line === "" || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "id") id = value;
    else if (field === "event") type = value;
    else if (field === "data") data.push(value);
  }
  if (data.length === 0) return undefined;
  let parsed;
  try {
    parsed = JSON.parse(data.join("\n"));
  } catch {
    parsed = { raw: data.join("\n") };
  }
  return { id, type, event: parsed };
}
function setLive(state, err) {
  liveBox.className = state === "live" ? "on" : state === "off" ? "" : "off";
  liveBox.dataset.state = state;
  liveBox.replaceChildren();
  if (state === "off") return;
  append(liveBox, [
    h("span", { class: "dot", "aria-hidden": "true" }),
    state === "live" ? "Live: following promotion events" : state === "refused" ? `Live updates refused: ${err?.message ?? ""}` : "Live updates: reconnecting…",
  ]);
}

/** A sentence for a promotion event (its data as the controller recorded it). */
function describeEvent(type, d = {}) {
  switch (type) {
    case "created":
      return `created: ${d.app} ${d.release} → ${d.environment}${d.rollbackOf ? ` (rollback of ${d.rollbackOf})` : ""}`;
    case "state-changed":
      return `state ${d.from} → ${d.to}${d.supersededBy ? ` (by ${d.supersededBy})` : ""}${d.reason ? `: ${d.reason}` : ""}`;
    case "gate-changed":
      return `gates: ${(d.gates ?? []).map((g) => `${g.gate} ${g.verdict}`).join(", ")}`;
    case "wave-started":
      return `wave ${d.wave}/${d.of} (${d.name}) started: ${(d.clusters ?? []).join(", ")}`;
    case "wave-committed":
      return `wave ${d.wave} committed ${short(d.revision)}`;
    case "pointers-issued":
      return `wave ${d.wave}: ${Array.isArray(d.pointers) ? d.pointers.length : "new"} pointer(s) issued at ${short(d.revision)}`;
    case "cluster-changed":
      return `${d.cluster}: ${d.from} → ${d.to}${d.message ? ` (${d.message})` : ""}`;
    case "wave-succeeded":
      return `wave ${d.wave} (${d.name}) succeeded`;
    case "cluster-skipped":
      return `${d.cluster ?? "a cluster"} skipped${d.reason ? `: ${d.reason}` : ""}`;
    default:
      return `${type} ${JSON.stringify(d)}`;
  }
}

// --- views ------------------------------------------------------------------------------------

async function fleetView(ctx) {
  const [matrix, failures] = await Promise.all([get("/v1/fleet/matrix", ctx), optional("/v1/render-failures", ctx)]);
  const out = [h("h1", {}, "Fleet")];
  out.push(h("p", { class: "muted" }, "At revision ", mono(short(matrix.revision, 12), matrix.revision), ". Each app cell: the app's health on the cluster and the release its lock pins (none: the manifests' own images)."));
  if (failures?.latest) {
    const f = failures.latest;
    out.push(h("div", { class: "banner-bad", role: "note" }, h("strong", {}, "Render failed "), "at revision ", mono(short(f.revision)), " ", time(f.at), ": ", f.errors.map((e) => `${e.message}${e.location?.file ? ` (${e.location.file}${e.location.line ? `:${e.location.line}` : ""})` : ""}`).join("; "), ". The last good pointers keep serving."));
  }
  for (const env of matrix.environments) {
    const apps = [...new Set(env.clusters.flatMap((c) => c.apps.map((a) => a.name)))].sort();
    out.push(
      h(
        "section",
        { class: "env", "aria-labelledby": `env-${env.name}` },
        h("h2", { id: `env-${env.name}` }, `Environment ${env.name}`),
        table({
          attrs: { class: "matrix", "data-environment": env.name },
          caption: `${env.clusters.length} cluster(s) in ${env.name}`,
          columns: ["Cluster", "Sync", "Health", "Open drift", "Generation", "Revision", "Last heartbeat", ...apps.map((a) => `App ${a}`)],
          rowHeader: true,
          empty: "no clusters",
          rows: env.clusters.map((c) =>
            withAttrs(
              [
                clusterLink(c.name),
                badge(c.syncState),
                badge(c.health),
                c.openDriftCount > 0 ? h("a", { href: `#/drift?cluster=${encodeURIComponent(c.name)}&state=open` }, badge("open", `${c.openDriftCount} open`)) : badge("closed", "0"),
                c.desired ? String(c.desired.generation) : "—",
                c.desired ? mono(short(c.desired.revision), c.desired.revision) : "—",
                time(c.lastHeartbeat),
                ...apps.map((name) => {
                  const a = c.apps.find((x) => x.name === name);
                  if (!a) return h("span", { class: "muted" }, "not deployed");
                  return h("div", { class: "cell-app", "data-app": name }, badge(a.health), a.release ? mono(a.release) : h("span", { class: "muted" }, "no release"));
                }),
              ],
              { "data-cluster": c.name },
            ),
          ),
        }),
      ),
    );
  }
  return out;
}

async function clusterView(ctx, name) {
  const enc = encodeURIComponent(name);
  const [c, pointers, drift, windows] = await Promise.all([
    get(`/v1/clusters/${enc}`, ctx),
    optional(`/v1/clusters/${enc}/pointers?limit=20`, ctx),
    get(`/v1/drift?cluster=${enc}&state=open&limit=50`, ctx),
    optional(`/v1/clusters/${enc}/break-glass`, ctx),
  ]);
  const out = [h("h1", {}, `Cluster ${c.name}`)];
  out.push(
    facts([
      ["Environment", c.environment],
      ["Sync", badge(c.syncState)],
      ["Health", badge(c.health)],
      ["Namespaces", c.namespaces ? c.namespaces.join(", ") : "cluster-wide"],
      ["Labels", Object.entries(c.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(", ") || "—"],
      ["Open drift", String(c.openDriftCount)],
      c.lastError ? ["Last error", h("span", { class: "badge bad" }, `${c.lastError.code}: ${c.lastError.message}`)] : null,
    ]),
  );
  out.push(h("h2", {}, "Desired pointer"));
  out.push(
    c.desired
      ? facts([
          ["Generation", String(c.desired.generation)],
          ["Revision", mono(c.desired.revision)],
          ["Bundle", mono(c.desired.bundleDigest)],
          ["Issued", time(c.desired.issuedAt)],
          ["Commit", c.desired.commit ? `${c.desired.commit.message} — ${c.desired.commit.author}` : "—"],
          ["Observed revision", c.observedRevision ? mono(c.observedRevision) : "not fully applied yet"],
        ])
      : h("p", { class: "muted" }, "No pointer issued yet."),
  );
  out.push(h("h2", {}, "Last report"));
  out.push(
    c.reported
      ? facts([
          ["Agent", mono(c.reported.agent)],
          ["Reported", time(c.reported.reportedAt)],
          ["For generation", String(c.reported.generation)],
          ["Sync (as reported)", badge(c.reported.syncState)],
          ["Health (as reported)", badge(c.reported.health)],
          ["Last heartbeat", c.heartbeat ? [time(c.heartbeat.at), ` (deadline ${c.heartbeat.deadlineSeconds}s)`] : "never"],
        ])
      : h("p", { class: "muted" }, "The agent has not reported yet."),
  );
  out.push(h("h2", {}, "Apps and objects"));
  if (c.apps.length === 0) out.push(h("p", { class: "muted" }, "No apps reported."));
  for (const a of c.apps) {
    out.push(
      table({
        attrs: { "data-app": a.name },
        caption: [`App ${a.name} `, badge(a.health), h("span", { class: "muted" }, ` generation ${a.generation}, updated `), time(a.updatedAt)],
        columns: ["Object", "Action", "Health", "Images", "Updated"],
        rowHeader: true,
        rows: a.objects.map((o) => [
          objectRef(o),
          [badge(o.action), o.reason ? h("span", { class: "muted" }, ` ${o.reason}`) : null, o.message ? h("div", { class: "muted" }, o.message) : null],
          [badge(o.health), o.healthReason ? h("span", { class: "muted" }, ` ${o.healthReason}`) : null],
          o.images.length ? o.images.map((i) => h("div", {}, mono(shortImage(i), i))) : "—",
          time(o.updatedAt),
        ]),
      }),
    );
  }
  out.push(h("h2", {}, "Open drift"));
  out.push(driftTable(drift, { cluster: false }), h("p", {}, h("a", { href: `#/drift?cluster=${enc}` }, "This cluster's whole drift ledger")));
  out.push(h("h2", {}, "Break-glass windows"));
  out.push(windows === null ? h("p", { class: "muted" }, "This hub serves no break-glass.") : windowsTable(windows, "Active windows"));
  out.push(h("h2", {}, "Pointer history"));
  out.push(
    pointers === null
      ? h("p", { class: "muted" }, "Not available on this hub.")
      : table({
          attrs: { class: "pointers" },
          caption: "Desired pointers issued, newest first",
          columns: ["Generation", "Revision", "Bundle", "Issued", "Commit"],
          rowHeader: true,
          rows: pointers.pointers.map((p) => [String(p.generation), mono(short(p.revision), p.revision), mono(short(p.bundleDigest), p.bundleDigest), time(p.issuedAt), p.commit ? `${p.commit.message} — ${p.commit.author}` : "—"]),
        }),
  );
  return out;
}

function driftTable(events, { cluster = true } = {}) {
  return table({
    attrs: { class: "drift" },
    caption: undefined,
    empty: "No drift events.",
    columns: ["Detected", ...(cluster ? ["Cluster"] : []), "App", "Object", "Changed fields (desired → live)", "Actor", "Policy", "Action", "State"],
    rows: events.map((e) =>
      withAttrs(
        [
          time(e.detectedAt),
          ...(cluster ? [clusterLink(e.cluster)] : []),
          e.app,
          objectRef(e.object),
          h("ul", { class: "paths" }, e.paths.map((p) => h("li", {}, mono(p.path), " ", mono(JSON.stringify(p.desired)), " → ", mono(JSON.stringify(p.live))))),
          mono(e.actor),
          e.policy,
          badge(e.action),
          e.resolvedAt ? [badge("closed"), " ", time(e.resolvedAt)] : badge("open"),
        ],
        { "data-drift": e.id },
      ),
    ),
  });
}

const DRIFT_FILTERS = [
  ["cluster", "Cluster"],
  ["app", "App"],
  ["environment", "Environment"],
  ["kind", "Kind"],
  ["namespace", "Namespace"],
];

async function driftView(ctx, params) {
  const q = new URLSearchParams();
  for (const [k] of DRIFT_FILTERS) if (params.get(k)) q.set(k, params.get(k));
  if (params.get("state") === "open" || params.get("state") === "closed") q.set("state", params.get("state"));
  const asked = Number(params.get("limit"));
  const limit = Number.isInteger(asked) && asked >= 1 && asked <= 1000 ? String(asked) : "50";
  const sizes = [...new Set(["10", "25", "50", "100", "250", limit])].sort((a, b) => a - b);
  q.set("limit", limit);
  const first = await api(`/v1/drift?${q}`, ctx);

  const form = h(
    "form",
    {
      class: "toolbar",
      role: "search",
      "aria-label": "Filter the drift ledger",
      onsubmit: (e) => {
        e.preventDefault();
        const next = new URLSearchParams();
        for (const [k, v] of new FormData(e.target)) if (typeof v === "string" && v.trim() !== "") next.set(k, v.trim());
        location.hash = `#/drift${next.size ? `?${next}` : ""}`;
      },
    },
    DRIFT_FILTERS.map(([k, label]) => h("label", {}, label, h("input", { name: k, value: params.get(k) ?? "", autocomplete: "off" }))),
    h(
      "label",
      {},
      "State",
      h(
        "select",
        { name: "state" },
        [
          ["", "open and closed"],
          ["open", "open"],
          ["closed", "closed"],
        ].map(([v, t]) => h("option", { value: v, selected: (params.get("state") ?? "") === v }, t)),
      ),
    ),
    h("label", {}, "Page size", h("select", { name: "limit" }, sizes.map((v) => h("option", { value: v, selected: v === limit }, v)))),
    h("button", { type: "submit" }, "Filter"),
    h("a", { href: "#/drift" }, "Clear"),
  );

  const holder = h("div", { id: "drift-rows" });
  const counter = h("p", { class: "muted", id: "drift-count", role: "status" });
  let shown = [];
  let cursor = first.headers.get("x-next-cursor");
  const more = h("button", { type: "button", id: "drift-more" }, "More");
  const paint = () => {
    holder.replaceChildren(driftTable(shown));
    counter.textContent = `${shown.length} event(s) shown${cursor ? ", more available" : ""}.`;
    more.hidden = !cursor;
  };
  more.addEventListener("click", async () => {
    more.disabled = true;
    try {
      const page = await api(`/v1/drift?${q}&cursor=${encodeURIComponent(cursor)}`, ctx);
      shown = shown.concat(page.body);
      cursor = page.headers.get("x-next-cursor");
      paint();
    } catch (err) {
      showError(err);
    } finally {
      more.disabled = false;
    }
  });
  shown = first.body;
  paint();
  return [h("h1", {}, "Drift ledger"), form, counter, holder, more];
}

async function promotionsView(ctx) {
  const { promotions } = await get("/v1/promotions?limit=100", ctx);
  return [
    h("h1", {}, "Promotions"),
    table({
      attrs: { class: "promotions" },
      caption: "Newest first",
      empty: "No promotions yet.",
      columns: ["Promotion", "App", "Environment", "Release", "State", "Wave", "Requested by", "Created", "Updated"],
      rowHeader: true,
      rows: promotions.map((p) =>
        withAttrs(
          [
            promotionLink(p.id),
            p.app,
            p.environment,
            [mono(p.releaseId), p.kind === "rollback" ? h("span", { class: "muted" }, ` rollback of ${p.rollbackOf ?? "?"}`) : null],
            [badge(p.state), p.supersededBy ? h("div", { class: "superseded-by" }, "by ", promotionLink(p.supersededBy)) : null, p.reason ? h("div", { class: "muted" }, p.reason) : null],
            p.waveCount ? `${p.currentWave}/${p.waveCount}` : "—",
            `${p.requestedBy}${p.auto ? " (auto)" : ""}`,
            time(p.createdAt),
            time(p.updatedAt),
          ],
          { "data-promotion": p.id },
        ),
      ),
    }),
  ];
}

async function promotionView(ctx, id, events) {
  const { promotion: p } = await get(`/v1/promotions/${encodeURIComponent(id)}`, ctx);
  const release = typeof p.release === "object" ? p.release : null;
  const out = [h("h1", {}, `Promotion ${p.id}`)];
  out.push(
    facts2([
      ["State", h("span", { id: "promotion-state" }, badge(p.state))],
      // A superseded promotion points at the one that runs the newer release in its place.
      p.supersededBy ? ["Superseded by", h("span", { id: "superseded-by" }, promotionLink(p.supersededBy))] : null,
      p.reason ? ["Reason", p.reason] : null,
      p.error ? ["Error", JSON.stringify(p.error)] : null,
      ["App", p.app],
      ["Environment", p.environment],
      ["Release", [mono(p.releaseId), release?.note ? ` — ${release.note}` : ""]],
      release ? ["Images", release.images.map((i) => {
            const ref = `${i.name}${i.digest ? `@${i.digest}` : `:${i.tag}`}`;
            return h("div", {}, mono(shortImage(ref), ref));
          })] : null,
      ["Kind", `${p.kind}${p.rollbackOf ? ` of ${p.rollbackOf}` : ""}`],
      ["Requested by", `${p.requestedBy}${p.auto ? " (auto-promotion)" : ""}`],
      ["Created", time(p.createdAt)],
      ["Finished", time(p.finishedAt)],
      ["Base revision", p.baseRevision ? mono(p.baseRevision) : "—"],
      ["Previous release", p.previousRelease ?? "—"],
      // The rollout is part of the plan, made when the gates pass (as `flotilla promote show` says).
      ["Rollout", p.waveCount ? `progress deadline ${p.rollout.progressDeadline}, healthy for ${p.rollout.minHealthy}, unknown after ${p.rollout.unknownAfter}` : "—"],
    ]),
  );
  out.push(h("h2", {}, "Gates"));
  out.push(
    table({
      attrs: { class: "gates" },
      columns: ["Gate", "Verdict", "Why", "Until"],
      rowHeader: true,
      empty: p.state === "Pending" ? "No gates evaluated yet." : "No gate holds this promotion.",
      rows: (p.gates ?? []).map((g) => [g.gate, badge(g.verdict), g.message, g.until ? time(g.until) : "—"]),
    }),
  );
  if (p.approvals?.length) {
    out.push(table({ caption: "Approvals", columns: ["By", "Verdict", "When", "Comment"], rowHeader: true, rows: p.approvals.map((a) => [a.subject, badge(a.verdict), time(a.at), a.comment ?? "—"]) }));
  }
  out.push(h("h2", {}, "Failure budget"));
  out.push(h("p", { id: "budget" }, `${p.budget.failed} failed of a total budget of ${p.budget.totalFailureBudget} (${p.budget.remaining} left).`));
  out.push(h("h2", {}, "Waves"));
  if (p.waves.length === 0) out.push(h("p", { class: "muted", id: "no-waves" }, "The waves are planned when the gates pass."));
  for (const w of p.waves) {
    out.push(
      h(
        "section",
        { class: "wave", "data-wave": w.name, "aria-label": `Wave ${w.index} ${w.name}` },
        h("h3", {}, `Wave ${w.index}/${p.waves.length}: ${w.name} `, badge(w.state)),
        h("p", { class: "muted" }, `Failure budget ${w.failureBudget} (${w.failed} failed) · soak ${w.soak} · pause ${w.pause} · commit `, w.commit ? mono(short(w.commit), w.commit) : "none yet"),
        table({
          columns: ["Cluster", "Outcome", "Generation", "Bundle", "Issued", "Healthy since", "Message"],
          rowHeader: true,
          rows: w.clusters.map((c) =>
            withAttrs(
              [clusterLink(c.cluster), badge(c.outcome), c.generation === null ? "—" : String(c.generation), c.bundleDigest ? mono(short(c.bundleDigest), c.bundleDigest) : "—", time(c.issuedAt), time(c.healthySince), [c.message ?? "", c.skippedBy ? ` (skipped by ${c.skippedBy})` : ""]],
              { "data-cluster": c.cluster, "data-outcome": c.outcome },
            ),
          ),
        }),
      ),
    );
  }
  out.push(h("h2", {}, "Commits"));
  out.push(table({ attrs: { class: "commits" }, columns: ["Wave", "Revision", "At"], rowHeader: true, empty: "No commits yet.", rows: p.commits.map((c) => [String(c.wave + 1), mono(c.revision), time(c.at)]) }));
  out.push(h("h2", {}, "Events"));
  out.push(
    h(
      "div",
      { class: "events" },
      table({
        attrs: { class: "event-log" },
        columns: ["#", "At", "Actor", "Event"],
        empty: "No events received yet.",
        rows: [...events].reverse().map((e) => [String(e.id), time(e.at), e.actor, [h("strong", {}, e.type), " ", describeEvent(e.type, e.data)]]),
      }),
    ),
  );
  return out;
}

function windowsTable(windows, caption) {
  return table({
    attrs: { class: "windows-active" },
    caption,
    empty: "none.",
    columns: ["Cluster", "Scope", "Reason", "Author", "Started", "Expires", "Id"],
    rowHeader: true,
    rows: windows.map((w) => withAttrs([clusterLink(w.cluster), scopeText(w.scope), w.reason, w.author, time(w.startedAt), time(w.expiresAt), mono(w.id)], { "data-window": w.id })),
  });
}
function scopeText(s) {
  if (!s) return "—";
  if (s.kind === "cluster") return "whole cluster";
  if (s.kind === "app") return `app ${s.app}`;
  return `object ${objectRef(s.object)}${s.app ? ` (app ${s.app})` : ""}`;
}

async function breakGlassView(ctx) {
  const [active, audit] = await Promise.all([optional("/v1/break-glass", ctx), optional("/v1/break-glass/audit?limit=500", ctx)]);
  if (active === null) return [h("h1", {}, "Break-glass"), h("p", { class: "muted" }, "This hub serves no break-glass windows.")];
  const activeIds = new Set(active.map((w) => w.id));
  // A window that ended or expired: its last audit entry says how, and when.
  const finished = new Map();
  for (const a of audit ?? []) {
    if (activeIds.has(a.windowId) || a.event === "started" || finished.has(a.windowId)) continue;
    finished.set(a.windowId, a);
  }
  return [
    h("h1", {}, "Break-glass"),
    h("p", { class: "muted" }, "Windows that suspend drift reverts for a scope (the agent still records the drift). See docs/break-glass.md."),
    h("h2", {}, "Active"),
    windowsTable(active, `${active.length} active window(s)`),
    h("h2", {}, "Ended and expired"),
    table({
      attrs: { class: "windows-finished" },
      empty: "none.",
      columns: ["Cluster", "Scope", "Reason", "Author", "How", "By", "At", "Id"],
      rowHeader: true,
      rows: [...finished.values()].map((a) =>
        withAttrs([clusterLink(a.cluster), scopeText(a.window?.scope), a.window?.reason ?? "—", a.window?.author ?? "—", [badge(a.event), a.reason && a.event === "ended" ? ` ${a.reason}` : ""], a.actor, time(a.at), mono(a.windowId)], { "data-window": a.windowId, "data-event": a.event }),
      ),
    }),
    h("h2", {}, "Audit trail"),
    table({
      attrs: { class: "audit" },
      empty: "nothing recorded.",
      columns: ["At", "Event", "Cluster", "Actor", "Reason", "Window"],
      rows: (audit ?? []).map((a) => [time(a.at), badge(a.event), clusterLink(a.cluster), a.actor, a.reason ?? "—", mono(a.windowId)]),
    }),
  ];
}

// --- routing ----------------------------------------------------------------------------------

let current; // { controller } of the view on screen

function route() {
  const raw = location.hash.replace(/^#/, "") || "/fleet";
  const [path, query = ""] = raw.split("?");
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  return { parts, params: new URLSearchParams(query) };
}

async function render() {
  current?.controller.abort();
  const controller = new AbortController();
  current = { controller };
  const ctx = { signal: controller.signal };
  const { parts, params } = route();
  const top = parts[0] ?? "fleet";
  for (const a of document.querySelectorAll("nav a")) {
    if (a.dataset.nav === (top === "clusters" ? "fleet" : top)) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  setLive("off");

  const events = [];
  const views = {
    fleet: { build: () => fleetView(ctx), live: true },
    clusters: parts[1] ? { build: () => clusterView(ctx, parts[1]) } : undefined,
    drift: { build: () => driftView(ctx, params) },
    promotions: parts[1] ? { build: () => promotionView(ctx, parts[1], events), live: true, promotion: parts[1] } : { build: () => promotionsView(ctx), live: true },
    "break-glass": { build: () => breakGlassView(ctx) },
  };
  const chosen = Object.hasOwn(views, top) && views[top] ? views[top] : { build: async () => [h("h1", {}, "Not found"), h("p", {}, "No such view. "), h("a", { href: "#/fleet" }, "Back to the fleet")] };
  const { build, live = false, promotion: liveFilter } = chosen;

  document.title = `Flotilla · ${top}${parts[1] ? ` ${parts[1]}` : ""}`;
  if (!token()) {
    view.replaceChildren(h("h1", {}, "Flotilla dashboard"), h("p", {}, "Enter an API token above to see the fleet. Every view calls the fleet API with it; a viewer token is enough."));
    showError(new ApiError(401, "FLOTILLA_ERR_UNAUTHORIZED", "no token given.", location.hash));
    return;
  }

  let painting = false;
  let again = false;
  const paint = async (first) => {
    if (painting) return void (again = true);
    painting = true;
    try {
      const nodes = await build();
      if (controller.signal.aborted) return;
      clearError();
      view.replaceChildren(...nodes.flat());
      view.dataset.view = top;
      view.dataset.updatedAt = new Date().toISOString();
      if (first) view.focus({ preventScroll: true });
    } catch (err) {
      if (controller.signal.aborted) return;
      if (first) view.replaceChildren(h("h1", {}, "Could not load this view"), h("p", { class: "muted" }, err?.message ?? String(err)));
      showError(err);
    } finally {
      painting = false;
      if (again && !controller.signal.aborted) {
        again = false;
        void paint(false);
      }
    }
  };
  if (view.dataset.view !== top) view.replaceChildren(h("p", { class: "muted" }, "Loading…"));
  await paint(true);
  if (!live || controller.signal.aborted) return;

  // Live views repaint (debounced) on each promotion event.
  let timer;
  const gatesSeen = new Map();
  streamEvents({
    promotion: liveFilter,
    from: liveFilter ? 0 : Number(sessionStorage.getItem(EVENT_KEY)) || 0,
    signal: controller.signal,
    onState: (state, err) => {
      if (!controller.signal.aborted) setLive(state, err);
    },
    onEvent: ({ id, type, event }) => {
      if (!liveFilter && id) sessionStorage.setItem(EVENT_KEY, id);
      // The controller may record the same gate verdicts again on each tick of a waiting
      // promotion: only a change is news.
      if (type === "gate-changed") {
        const key = JSON.stringify(event.data?.gates ?? null);
        if (gatesSeen.get(event.promotionId) === key) return;
        gatesSeen.set(event.promotionId, key);
      }
      if (liveFilter) events.push({ id: Number(id), type, actor: event.actor, at: event.at, data: event.data });
      clearTimeout(timer);
      timer = setTimeout(() => void paint(false), 150);
    },
  });
}

// --- the token --------------------------------------------------------------------------------

function showTokenState() {
  document.getElementById("token-state").textContent = token() ? "token set for this tab" : "no token";
}
document.getElementById("token-form").addEventListener("submit", (e) => {
  e.preventDefault();
  const input = document.getElementById("token");
  const value = input.value.trim();
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  input.value = "";
  showTokenState();
  void render();
});
document.getElementById("forget").addEventListener("click", () => {
  sessionStorage.removeItem(TOKEN_KEY);
  showTokenState();
  void render();
});
window.addEventListener("hashchange", () => void render());
showTokenState();
void render();
