// The promotion controller's own overhead: a release from POST /v1/releases to the last prod
// cluster Succeeded, through dev → stage → prod (auto-promotion, 3 prod waves), on 3 environments
// × N clusters, with every configured soak, pause and minHealthy at 0 — so what remains is the
// hub's work (gates, commits pushed to a Git server over HTTP, resolves, pointers on NATS, report
// ingest into Postgres, outcome evaluation) plus the report cadence of the stand-in agents.
//
//   node --conditions=@flotilla/source --import tsx bench/promotion.mts [--clusters 10] [--tick-ms 100] [--report-ms 100]
//
// The clusters' agents are stood in for by a reporter that reads each cluster's signed pointer
// from NATS every --report-ms and, like an agent, reports Synced + Healthy once per new pointer
// (heartbeats every second) (an agent's own apply time is in
// bench/drift and bench/agent-footprint, not here).
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { jetstream } from "@nats-io/jetstream";
import type { HeartbeatReport, StatusReport } from "@flotilla/model";
import { createWorkRepo, pushWorkRepo, startGitHttpServer } from "@flotilla/envrepo/testing";
import { mintApiToken, Role, startHub, type Hub } from "@flotilla/hub";
import { createTestDatabase, createTestNats } from "@flotilla/testkit";
import { encodeJson, generateSigningKey, reportSubject } from "@flotilla/wire";
import { Cleanup } from "./lib/cleanup.mts";

const { values } = parseArgs({ options: { clusters: { type: "string", default: "10" }, "tick-ms": { type: "string", default: "100" }, "report-ms": { type: "string", default: "100" } } });
const N = Number(values.clusters);
const TICK = Number(values["tick-ms"]);
const REPORT = Number(values["report-ms"]);
const TOKEN = "bench-promotion";
const ENVS = ["dev", "stage", "prod"];
const clusters = ENVS.flatMap((e) => Array.from({ length: N }, (_, i) => `${e}-${String(i + 1).padStart(2, "0")}`));
const ROLLOUT = "minHealthy: 0, progressDeadline: 5m, unknownAfter: 5m";

const fleet = `apiVersion: flotilla.dev/v1alpha1
environments:
  - { name: dev, promotion: { autoPromote: true, rollout: { ${ROLLOUT} } } }
  - { name: stage, promotion: { from: [dev], autoPromote: true, rollout: { ${ROLLOUT} } } }
  - name: prod
    promotion:
      from: [stage]
      autoPromote: true
      digestOnly: true
      rollout:
        ${ROLLOUT.split(", ").join("\n        ")}
        waves:
          - { name: canary, clusters: [prod-01] }
          - { name: half, percent: 50, failureBudget: 1 }
          - { name: all, percent: 100, failureBudget: 1 }
clusters:
${clusters.map((c) => `  - { name: ${c}, environment: ${c.split("-")[0]} }`).join("\n")}
apps:
  - { name: shop, path: apps/shop }
`;
const deployment = `apiVersion: apps/v1
kind: Deployment
metadata: { name: shop, namespace: shop }
spec:
  template:
    spec:
      containers: [{ name: shop, image: "ghcr.io/acme/shop:1.0" }]
`;

// Like an agent: a status report when the pointer changed (after "applying" it), heartbeats every second.
const reported = new Map<string, number>();
let lastHeartbeat = 0;
async function reportAll(hub: Hub): Promise<void> {
  const js = jetstream(hub.nc);
  const beat = Date.now() - lastHeartbeat >= 1_000;
  if (beat) lastHeartbeat = Date.now();
  await Promise.all(
    clusters.map(async (c) => {
      const p = await hub.publisher.readPointer(c);
      if (!p) return;
      const base = { cluster: c, agent: `${c}/bench/1`, at: new Date().toISOString(), generation: p.generation };
      if (reported.get(c) !== p.generation) {
        const status: StatusReport = { ...base, id: randomUUID(), kind: "status", revision: p.revision, bundleDigest: p.bundleDigest, observedRevision: p.revision, syncState: "Synced", health: "Healthy", apps: [] };
        await js.publish(reportSubject(hub.names, c, "status"), encodeJson(status), { msgID: status.id });
        reported.set(c, p.generation);
      }
      if (beat) {
        const hb: HeartbeatReport = { ...base, id: randomUUID(), kind: "heartbeat", deadlineSeconds: 30 };
        await js.publish(reportSubject(hub.names, c, "heartbeat"), encodeJson(hb), { msgID: hb.id });
      }
    }),
  );
}

async function main(cleanup: Cleanup): Promise<void> {
  const tmp = await mkdtemp(join(tmpdir(), "bench-promotion-"));
  cleanup.add("temp dir", () => rm(tmp, { recursive: true, force: true }));
  const server = await startGitHttpServer({ token: TOKEN });
  cleanup.add("git server", () => server.close());
  const url = server.createBareRepo("fleet");
  await createWorkRepo(join(tmp, "work"), { "flotilla.yaml": fleet, "apps/shop/deployment.yaml": deployment });
  await pushWorkRepo(join(tmp, "work"), url, { token: TOKEN });
  const db = await createTestDatabase("benchpromo");
  cleanup.add("database", () => db.drop());
  const nats = createTestNats("benchpromo");
  cleanup.add("nats streams", () => nats.cleanup());
  const admin = mintApiToken({ subject: "bench", roles: [Role.Admin] });
  const hub = await startHub({
    auth: { tokens: [admin.entry] },
    repo: { url, token: TOKEN, workDir: join(tmp, "reader") },
    promotionWriter: { url, token: TOKEN, workDir: join(tmp, "writer") },
    databaseUrl: db.url,
    natsUrl: nats.url,
    natsPrefix: nats.prefix,
    signingKey: generateSigningKey(),
    port: 0,
    pollIntervalMs: 600_000,
    promotionTickMs: TICK,
  });
  cleanup.add("hub", () => hub.stop());
  let reporting = true;
  const reporter = (async () => {
    while (reporting) {
      await reportAll(hub).catch(() => undefined);
      await new Promise((r) => setTimeout(r, REPORT));
    }
  })();
  cleanup.add("reporter", async () => {
    reporting = false;
    await reporter;
  });

  const api = async <T,>(method: string, path: string, body?: unknown): Promise<T> => {
    const headers = { authorization: `Bearer ${admin.token}`, ...(body ? { "content-type": "application/json" } : {}) };
    const res = await fetch(`${hub.url}${path}`, { method, headers, ...(body ? { body: JSON.stringify(body) } : {}) });
    return (await res.json()) as T;
  };

  for (const [round, digit] of [[1, "1"], [2, "2"]] as const) {
    const started = performance.now();
    const { release } = await api<{ release: { id: string } }>("POST", "/v1/releases", { app: "shop", sourceRevision: `r${round}`, images: [{ name: "ghcr.io/acme/shop", digest: `sha256:${digit.repeat(64)}` }] });
    const doneAt: Record<string, number> = {};
    for (;;) {
      const { promotions } = await api<{ promotions: { environment: string; state: string }[] }>("GET", `/v1/releases/${release.id}`);
      for (const p of promotions) if (p.state === "Succeeded" && doneAt[p.environment] === undefined) doneAt[p.environment] = performance.now() - started;
      if (promotions.some((p) => ["Halted", "Errored", "Aborted", "Rejected"].includes(p.state))) throw new Error(`a promotion failed: ${JSON.stringify(promotions)}`);
      if (doneAt.prod !== undefined) break;
      if (performance.now() - started > 600_000) throw new Error(`not done after 10 minutes: ${JSON.stringify(promotions)}`);
      await new Promise((r) => setTimeout(r, 100));
    }
    const detail = (await api<{ promotions: { id: string; environment: string }[] }>("GET", `/v1/releases/${release.id}`)).promotions;
    let commits = 0;
    for (const p of detail) commits += (await api<{ promotion: { commits: unknown[] } }>("GET", `/v1/promotions/${p.id}`)).promotion.commits.length;
    console.log(
      `release ${round}: dev ${Math.round(doneAt.dev!)} ms, stage ${Math.round(doneAt.stage!)} ms, prod (3 waves) ${Math.round(doneAt.prod!)} ms after POST /v1/releases` +
        ` — ${commits} wave commits, soaks and pauses 0, so this is the hub's overhead (+ up to ${REPORT} ms report cadence per wave)`,
    );
  }
}

console.log(`bench/promotion: 3 environments × ${N} clusters, controller tick ${TICK} ms, reports every ${REPORT} ms; real Postgres, NATS and a Git server over HTTP`);
const cleanup = new Cleanup();
try {
  await main(cleanup);
} finally {
  await cleanup.run();
}
