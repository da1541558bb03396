// The web dashboard in a real browser (headless Chromium driven by playwright-core) against a real
// fleet: the hub on Postgres and NATS with promotion commits pushed to a Git server, four tenant
// agents on the shared kube-apiserver (dev-a; prod-a the canary, prod-b, prod-c). The page is
// served by the hub at /ui and calls the fleet API with the token typed into it.
//
// The key assertion: a promotion page opened while the promotion waits for its approval follows
// it through its waves to Succeeded from the event stream, without a reload. Around it: a bad
// token is a clear 401, the fleet matrix, a cluster's page, the drift ledger with its filters and
// "More", and the break-glass windows (active, ended early, expired).
//
// Screenshots go to a temporary directory, or to docs/images (the ones docs/dashboard.md shows)
// with FLOTILLA_DASHBOARD_SCREENSHOTS=docs/images.
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chromium, type Browser, type Page } from "playwright-core";
import { startLocalFleet, type LocalFleet } from "flotilla/local-fleet";
import { Role } from "@flotilla/hub";
import { createWorkRepo, pushWorkRepo, startGitHttpServer, type GitHttpServer } from "@flotilla/envrepo/testing";
import { createTestDatabase, createTestNats, kubeRequest, waitFor, type TestDatabase, type TestNats } from "@flotilla/testkit";
import { useSharedControlPlane } from "@flotilla/testkit/vitest";

const shared = useSharedControlPlane();
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const GIT_TOKEN = "dashboard-e2e";
const suffix = randomBytes(3).toString("hex");
const CLUSTERS = [
  { name: "dev-a", environment: "dev" },
  { name: "prod-a", environment: "prod" },
  { name: "prod-b", environment: "prod" },
  { name: "prod-c", environment: "prod" },
];
const nsOf = (cluster: string) => `ui-${suffix}-${cluster}`;
const DIGEST = `sha256:${"3".repeat(64)}`;
const ROLLOUT = "minHealthy: 3s, progressDeadline: 120s, unknownAfter: 60s";

const FLEET = `apiVersion: flotilla.dev/v1alpha1
environments:
  - name: dev
    promotion: { autoPromote: true, rollout: { ${ROLLOUT} } }
  - name: prod
    promotion:
      from: [dev]
      approvals: { count: 1 }
      rollout:
        ${ROLLOUT.split(", ").join("\n        ")}
        waves:
          - { name: canary, clusters: [prod-a], failureBudget: 0 }
          - { name: rest, percent: 100, failureBudget: 1 }
clusters:
${CLUSTERS.map((c) => `  - { name: ${c.name}, environment: ${c.environment}, namespaces: [${nsOf(c.name)}] }`).join("\n")}
apps:
  - { name: web, path: apps/web }
  - { name: settings, path: apps/settings, drift: warn }
`;
// No namespaces: each tenant agent places the objects in its own.
const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  replicas: 1
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers: [{ name: web, image: "ghcr.io/acme/web:1.0" }]
`;
const CONFIG_MAP = `apiVersion: v1
kind: ConfigMap
metadata: { name: settings }
data: { mode: normal }
`;

interface DriftEvent {
  id: string;
  cluster: string;
  app: string;
  action: string;
  resolvedAt: string | null;
}
interface PromotionView {
  id: string;
  state: string;
}

describe("the web dashboard in a browser", () => {
  let tmp: string;
  let shots: string;
  let server: GitHttpServer;
  let nats: TestNats;
  let database: TestDatabase;
  let fleet: LocalFleet;
  let browser: Browser;
  let page: Page;
  let release: string;

  const viewerToken = () => fleet.tokens.get("vic")!;
  /** The viewport, or the page's top `height` pixels: enough to show the view, small files. */
  const shoot = async (name: string, height?: number) => {
    const clip = height ? { x: 0, y: 0, width: page.viewportSize()!.width, height } : undefined;
    await page.screenshot({ path: join(shots, `dashboard-${name}.png`), ...(clip ? { fullPage: true, clip } : {}) });
  };
  /** Navigates by hash inside the open page (no reload) and waits for the view to paint. */
  const show = async (hash: string, view: string) => {
    const before = await page.locator("#view").getAttribute("data-updated-at");
    await page.evaluate(`location.hash = ${JSON.stringify(hash)}`);
    // Selectors, not waitForFunction: the page's CSP (no eval) refuses Playwright's string predicates.
    await page.locator(`#view[data-view="${view}"]:not([data-updated-at="${before}"])`).waitFor();
  };
  const driftRow = (cluster: string, app: string, action: string) =>
    waitFor(async () => (await fleet.api<DriftEvent[]>(`/v1/drift?cluster=${cluster}&app=${app}`)).find((e) => e.action === action), { what: `a ${action} drift row of ${app} on ${cluster}`, timeoutMs: 60_000 });
  const scale = async (cluster: string, replicas: number) => {
    const r = await kubeRequest(shared.kubeConfig, {
      method: "PATCH",
      path: `/apis/apps/v1/namespaces/${nsOf(cluster)}/deployments/web/scale?fieldManager=kubectl-scale`,
      contentType: "application/merge-patch+json",
      body: { spec: { replicas } },
    });
    expect(r.status).toBe(200);
  };

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), "e2e-dashboard-"));
    shots = process.env.FLOTILLA_DASHBOARD_SCREENSHOTS ? resolve(ROOT, process.env.FLOTILLA_DASHBOARD_SCREENSHOTS) : join(tmp, "screenshots");
    await mkdir(shots, { recursive: true });
    for (const c of CLUSTERS) {
      await kubeRequest(shared.kubeConfig, { method: "POST", path: "/api/v1/namespaces", body: { apiVersion: "v1", kind: "Namespace", metadata: { name: nsOf(c.name) } } });
    }
    server = await startGitHttpServer({ token: GIT_TOKEN });
    const url = server.createBareRepo("fleet");
    await createWorkRepo(join(tmp, "work"), { "flotilla.yaml": FLEET, "apps/web/deployment.yaml": DEPLOYMENT, "apps/settings/configmap.yaml": CONFIG_MAP });
    await pushWorkRepo(join(tmp, "work"), url, { token: GIT_TOKEN });
    nats = createTestNats("e2eui");
    database = await createTestDatabase("e2eui");
    fleet = await startLocalFleet({
      repo: { url, token: GIT_TOKEN, workDir: join(tmp, "reader") },
      promotionWriter: { url, token: GIT_TOKEN, workDir: join(tmp, "writer") },
      clusters: CLUSTERS.map((c) => ({ name: c.name, kubeconfig: shared.kubeConfig, namespaces: [nsOf(c.name)] })),
      natsUrl: nats.url,
      natsPrefix: nats.prefix,
      databaseUrl: database.url,
      stateDir: join(tmp, "agents"),
      pollIntervalMs: 60_000,
      heartbeatIntervalMs: 2_000,
      promotionTickMs: 250,
      apiUsers: [
        { subject: "ada", roles: [Role.Admin] },
        { subject: "carol", roles: [Role.Promoter], environments: ["*"] },
        { subject: "vic", roles: [Role.Viewer] },
      ],
    });
    for (const c of CLUSTERS) {
      await waitFor(async () => {
        const v = await fleet.api<{ syncState: string; health: string }>(`/v1/clusters/${c.name}`);
        return v.syncState === "Synced" && v.health === "Healthy";
      }, { what: `${c.name} Synced and Healthy on the base`, timeoutMs: 120_000 });
    }
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
    page = await browser.newPage({ viewport: { width: 1180, height: 760 } });
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await fleet?.stop();
    await nats?.cleanup();
    await database?.drop();
    await server?.close();
    for (const c of CLUSTERS) await kubeRequest(shared.kubeConfig, { method: "DELETE", path: `/api/v1/namespaces/${nsOf(c.name)}` }).catch(() => undefined);
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  it("serves the page without a token, asks for one, and shows a refused token as a 401", async () => {
    const res = await fetch(new URL("/ui", fleet.hub.url));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-security-policy")).toContain("script-src 'self'");
    expect((await fetch(new URL("/ui/app.js", fleet.hub.url))).headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    // Only the dashboard's own files: nothing else of the hub's directory is reachable.
    for (const path of ["/ui/package.json", "/ui/..%2Fpackage.json", "/ui/dashboard.ts"]) expect((await fetch(new URL(path, fleet.hub.url))).status, path).toBe(404);
    const context = await browser.newContext({ viewport: { width: 1180, height: 420 } });
    const other = await context.newPage();
    await other.goto(new URL("/ui#/fleet", fleet.hub.url).href);
    await expect.poll(() => other.locator("#alert").textContent()).toContain("Unauthorized (401)");
    await other.fill("#token", `flt_${"x".repeat(43)}`);
    await other.click("text=Use token");
    await expect.poll(() => other.locator("#alert").textContent()).toMatch(/Unauthorized \(401\)\. .+The token was refused/);
    expect(await other.locator("#view h1").textContent()).toBe("Could not load this view");
    expect(await other.locator("table").count()).toBe(0);
    await other.screenshot({ path: join(shots, "dashboard-unauthorized.png") });
    await context.close();
  });

  it("shows the fleet matrix: environments × clusters × apps with sync, health and drift", async () => {
    await page.goto(new URL("/ui", fleet.hub.url).href);
    await page.fill("#token", viewerToken());
    await page.click("text=Use token");
    await page.waitForSelector("table.matrix");
    expect(await page.locator("table.matrix").evaluateAll((ts) => ts.map((t) => t.getAttribute("data-environment")))).toEqual(["dev", "prod"]);
    const rows = page.locator("table.matrix tbody tr");
    expect(await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-cluster")))).toEqual(CLUSTERS.map((c) => c.name));
    for (const c of CLUSTERS) {
      const row = page.locator(`tr[data-cluster="${c.name}"]`);
      expect(await row.locator("td").nth(0).textContent()).toBe("Synced");
      expect(await row.locator("td").nth(1).textContent()).toBe("Healthy");
      expect(await row.locator('[data-app="web"] .badge').textContent()).toBe("Healthy");
      expect(await row.locator('[data-app="settings"] .badge').textContent()).toBe("Healthy");
    }
    expect(await page.locator("table.matrix thead").first().textContent()).toContain("App settings");
    // The token never reaches the URL; it stays in this tab's session storage.
    expect(page.url()).not.toContain(viewerToken());
  });

  it("follows a promotion through its waves from the event stream, without a reload", async () => {
    release = (await fleet.api<{ release: { id: string } }>("/v1/releases", { method: "POST", as: "ada", body: { app: "web", sourceRevision: "ui-1", images: [{ name: "ghcr.io/acme/web", digest: DIGEST }] } })).release.id;
    await waitFor(async () => (await fleet.api<{ promotions: PromotionView[] }>(`/v1/promotions?environment=dev`)).promotions.find((p) => p.state === "Succeeded"), { what: "the dev promotion to succeed", timeoutMs: 180_000 });

    // The list page is open when the prod promotion is created: its row appears by itself.
    await show("#/promotions", "promotions");
    await page.evaluate(`window.__mark = "no-reload"`);
    await expect.poll(() => page.locator("#live").getAttribute("data-state")).toBe("live");
    const prod = (await fleet.api<{ promotion: PromotionView }>("/v1/promotions", { method: "POST", as: "ada", body: { release, environment: "prod" } })).promotion;
    const row = page.locator(`tr[data-promotion="${prod.id}"]`);
    await row.waitFor({ timeout: 30_000 });
    expect(await row.locator(".badge").first().textContent()).toBe("Pending");

    // Its page: waiting for an approval; the waves are planned once the gates pass.
    await row.locator("a").click();
    await page.locator("#promotion-state").waitFor();
    expect(await page.locator("#promotion-state").textContent()).toBe("Pending");
    await expect.poll(() => page.locator("table.gates").textContent()).toMatch(/approval.*pending/);
    expect(await page.locator("#no-waves").isVisible()).toBe(true);
    // Record every state the page shows from now on.
    await page.evaluate(`(() => {
      window.__seen = [];
      const record = () => {
        const state = document.querySelector("#promotion-state [data-state]")?.dataset.state;
        const outcomes = [...document.querySelectorAll("tr[data-cluster]")].map((tr) => tr.dataset.cluster + ":" + tr.dataset.outcome).join(" ");
        const key = state + " " + outcomes;
        if (state && window.__seen.at(-1) !== key) window.__seen.push(key);
      };
      new MutationObserver(record).observe(document.getElementById("view"), { childList: true, subtree: true });
      record();
    })()`);
    await expect.poll(() => page.locator("#live").getAttribute("data-state")).toBe("live");

    await fleet.api(`/v1/promotions/${prod.id}/approve`, { method: "POST", as: "carol", body: { comment: "ship it" } });
    await page.locator('#promotion-state [data-state="Succeeded"]').waitFor({ timeout: 240_000 });

    expect(await page.evaluate("window.__mark")).toBe("no-reload");
    const seen = (await page.evaluate("window.__seen")) as string[];
    expect(seen[0]).toBe("Pending ");
    expect(seen.at(-1)).toBe("Succeeded prod-a:Succeeded prod-b:Succeeded prod-c:Succeeded");
    // The canary wave ran first (prod-a on its way while the rest waited), then the rest, each
    // cluster staying Progressing for minHealthy (3 s): long enough for the page to show it.
    expect(seen.some((s) => /^Running prod-a:(Issued|Progressing) prod-b:Pending prod-c:Pending$/.test(s)), seen.join("\n")).toBe(true);
    expect(seen.some((s) => /^Running prod-a:Succeeded prod-b:(Issued|Progressing)/.test(s)), seen.join("\n")).toBe(true);
    expect(seen.findIndex((s) => s.startsWith("Running"))).toBeGreaterThan(0);
    const log = (await page.locator("table.event-log").textContent()) ?? "";
    expect(log).toContain("approved");
    expect(log).toContain("state Pending → Running");
    expect(log).toMatch(/wave 1\/2 \(canary\) started: prod-a/);
    expect(log).toMatch(/prod-b: \w+ → Succeeded/);
    expect(await page.locator("table.commits tbody tr").count()).toBe(2);
    expect(await page.locator('[data-wave="canary"] h3 .badge').textContent()).toBe("Done");
    expect(await page.locator("#budget").textContent()).toContain("0 failed");
    await shoot("promotion", 1000);
  });

  it("shows the drift ledger with its filters and More, a cluster's page and the break-glass windows", async () => {
    // dev-a: web is enforced, so a scale is reverted (closed). prod-b: settings is warn, so an
    // edit is left (open). prod-c: a break-glass window covers web, so a scale is blocked (open).
    await scale("dev-a", 3);
    await driftRow("dev-a", "web", "reverted");
    const edit = await kubeRequest(shared.kubeConfig, {
      method: "PATCH",
      path: `/api/v1/namespaces/${nsOf("prod-b")}/configmaps/settings?fieldManager=kubectl-edit`,
      contentType: "application/merge-patch+json",
      body: { data: { mode: "debug" } },
    });
    expect(edit.status).toBe(200);
    await driftRow("prod-b", "settings", "left");
    const open = (cluster: string, scope: object, reason: string, ttlSeconds: number) =>
      fleet.api<{ id: string }>(`/v1/clusters/${cluster}/break-glass`, { method: "POST", as: "ada", body: { scope, reason, ttlSeconds } });
    const incident = await open("prod-c", { kind: "app", app: "web" }, "INC-42: scaling web by hand", 3600);
    await waitFor(() => fleet.agents.get("prod-c")!.breakGlass.covers("web", `apps/Deployment/${nsOf("prod-c")}/web`) || undefined, { what: "prod-c's agent to hold the window" });
    await scale("prod-c", 2);
    await driftRow("prod-c", "web", "blocked-by-break-glass");
    // One window ended early, one expired.
    const test = await open("prod-a", { kind: "object", object: { group: "apps", kind: "Deployment", namespace: nsOf("prod-a"), name: "web" } }, "load test", 3600);
    await fleet.api(`/v1/clusters/prod-a/break-glass/${test.id}`, { method: "DELETE", as: "ada", body: { reason: "load test done" } });
    const brief = await open("dev-a", { kind: "cluster" }, "INC-41: a second to look", 1);
    await waitFor(async () => (await fleet.api<{ windowId: string; event: string }[]>("/v1/break-glass/audit")).some((a) => a.windowId === brief.id && a.event === "expired"), { what: "the short window to expire" });

    // The matrix now has open drift on prod-b and prod-c, and each prod cluster runs the release.
    await show("#/fleet", "fleet");
    await expect.poll(() => page.locator('tr[data-cluster="prod-b"] td').nth(2).textContent()).toBe("1 open");
    expect(await page.locator('tr[data-cluster="prod-c"] td').nth(2).textContent()).toBe("1 open");
    expect(await page.locator('tr[data-cluster="dev-a"] td').nth(2).textContent()).toBe("0");
    for (const c of ["prod-a", "prod-b", "prod-c"]) expect(await page.locator(`tr[data-cluster="${c}"] [data-app="web"] code`).textContent()).toBe(release);
    await shoot("fleet");

    // The ledger: everything, then open only, then one app through the form.
    const rows = () => page.locator("table.drift tbody tr");
    const cells = (col: number) => rows().evaluateAll((trs, i) => trs.map((tr) => tr.children[i]?.textContent ?? ""), col);
    const distinct = async (col: number) => [...new Set(await cells(col))].sort();
    const total = (await fleet.api<DriftEvent[]>("/v1/drift")).length;
    await show("#/drift", "drift");
    expect(await rows().count()).toBe(total);
    expect(await distinct(1)).toEqual(["dev-a", "prod-b", "prod-c"]);
    expect(await cells(7)).toEqual(expect.arrayContaining(["reverted", "left", "blocked-by-break-glass"]));
    const settingsRow = rows().filter({ hasText: "ConfigMap" });
    expect(await settingsRow.textContent()).toContain('/data/mode "normal" → "debug"');
    expect(await settingsRow.textContent()).toContain("kubectl-edit");
    await shoot("drift");
    await show("#/drift?state=open", "drift");
    expect(await distinct(1)).toEqual(["prod-b", "prod-c"]);
    expect(await distinct(8)).toEqual(["open"]);
    await page.fill('input[name="app"]', "settings");
    await page.click('form[role="search"] button[type="submit"]');
    await expect.poll(() => page.url()).toContain("app=settings");
    await expect.poll(() => distinct(2)).toEqual(["settings"]);
    expect(page.url()).toContain("state=open");
    await show(`#/drift?namespace=${nsOf("dev-a")}&state=closed`, "drift");
    expect(await distinct(1)).toEqual(["dev-a"]);
    expect(await distinct(7)).toEqual(["reverted"]);
    // Pages of one: "More" follows the cursor until the ledger ends.
    await show("#/drift?limit=1", "drift");
    expect(await rows().count()).toBe(1);
    for (let n = 2; n <= total; n++) {
      await page.click("#drift-more");
      await expect.poll(() => rows().count()).toBe(n);
    }
    await page.click("#drift-more");
    await expect.poll(() => page.locator("#drift-more").isHidden()).toBe(true);
    expect(await rows().count()).toBe(total);

    // prod-b's page: pointer, last report, objects, pointer history, its open drift.
    await show("#/clusters/prod-b", "clusters");
    expect(await page.locator("h1").textContent()).toBe("Cluster prod-b");
    const text = (await page.locator("#view").textContent()) ?? "";
    expect(text).toContain(`Promote web ${release} to prod: wave 2/2 (rest)`);
    expect(text).toMatch(/Agent\s*prod-b\//);
    // The image by its digest's head, the whole reference in the title.
    expect(await page.locator(`table[data-app="web"] code[title="ghcr.io/acme/web@${DIGEST}"]`).textContent()).toBe(`ghcr.io/acme/web@sha256:${"3".repeat(12)}…`);
    expect(await page.locator('table[data-app="settings"] tbody').textContent()).toContain(`ConfigMap ${nsOf("prod-b")}/settings`);
    expect(await page.locator("table.pointers tbody tr").count()).toBe(2);
    expect(await page.locator("table.drift tbody tr").count()).toBe(1);
    await shoot("cluster", 1000);

    // Break-glass: prod-c's window is active; prod-a's ended early, dev-a's expired.
    await show("#/break-glass", "break-glass");
    expect(await page.locator("table.windows-active tbody tr").count()).toBe(1);
    expect(await page.locator(`table.windows-active tr[data-window="${incident.id}"]`).textContent()).toContain("INC-42: scaling web by hand");
    expect(await page.locator(`table.windows-finished tr[data-window="${test.id}"]`).getAttribute("data-event")).toBe("ended");
    expect(await page.locator(`table.windows-finished tr[data-window="${test.id}"]`).textContent()).toContain("load test done");
    expect(await page.locator(`table.windows-finished tr[data-window="${brief.id}"]`).getAttribute("data-event")).toBe("expired");
    expect(await page.locator("table.audit tbody tr").count()).toBe(5);
    await shoot("break-glass");
    expect(await page.evaluate("window.__mark")).toBe("no-reload");
  });

  it("shows a queued promotion of an older release as Superseded, linked to the newer release's", async () => {
    // Two newer releases, each asked into prod while prod's approval is outstanding: the queue of
    // web in prod runs only the newest, so the older one's promotion gives way before it starts.
    const newRelease = async (n: string) =>
      (await fleet.api<{ release: { id: string } }>("/v1/releases", { method: "POST", as: "ada", body: { app: "web", sourceRevision: `ui-${n}`, images: [{ name: "ghcr.io/acme/web", digest: `sha256:${n.repeat(64)}` }] } })).release.id;
    const promoteToProd = async (r: string) => (await fleet.api<{ promotion: PromotionView }>("/v1/promotions", { method: "POST", as: "ada", body: { release: r, environment: "prod" } })).promotion;
    const older = await promoteToProd(await newRelease("4"));
    const newer = await promoteToProd(await newRelease("5"));
    await waitFor(async () => (await fleet.api<{ promotion: PromotionView & { supersededBy?: string } }>(`/v1/promotions/${older.id}`)).promotion.supersededBy === newer.id || undefined, {
      what: `${older.id} to be Superseded by ${newer.id}`,
      timeoutMs: 60_000,
    });

    await show("#/promotions", "promotions");
    const row = page.locator(`tr[data-promotion="${older.id}"]`);
    await expect.poll(() => row.locator(".badge").first().textContent()).toBe("Superseded");
    expect(await row.locator(".superseded-by a").textContent()).toBe(newer.id);

    await show(`#/promotions/${encodeURIComponent(older.id)}`, "promotions");
    expect(await page.locator("#promotion-state").textContent()).toBe("Superseded");
    expect(await page.locator("#superseded-by").textContent()).toBe(newer.id);
    // It never started: no rollout was planned, and the page does not invent one.
    expect(await page.locator("#view").textContent()).toMatch(/Rollout\s*—/);
    expect(await page.locator("table.event-log").textContent()).toContain(`state Pending → Superseded (by ${newer.id})`);
    await shoot("superseded", 760);
    // The link leads to the promotion that runs in its place.
    await page.locator("#superseded-by a").click();
    await expect.poll(() => page.locator("h1").textContent()).toBe(`Promotion ${newer.id}`);
    expect(await page.locator("#promotion-state").textContent()).not.toBe("Superseded");
  });
});
