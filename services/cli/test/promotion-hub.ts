// A real hub that promotes, for the `flotilla promote` tests: the env repo on a Git HTTP server the
// hub pushes wave commits to, real Postgres and NATS, the tokens of fleet-hub.ts. The clusters'
// agents are stood in for the way the hub's own promotion tests do it: a reporter reads each
// cluster's signed pointer from NATS KV and reports on it over NATS (JetStream captures the subjects) — Healthy, Degraded, or
// nothing — every 150 ms.
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { HeartbeatReport, StatusReport } from "@flotilla/model";
import { createWorkRepo, pushWorkRepo, startGitHttpServer, type GitHttpServer } from "@flotilla/envrepo/testing";
import { startHub, type Hub } from "@flotilla/hub";
import { createTestDatabase, createTestNats, type TestDatabase, type TestNats } from "@flotilla/testkit";
import { encodeJson, generateSigningKey, reportSubject } from "@flotilla/wire";
import { people, type Person } from "./fleet-hub.js";

const GIT_TOKEN = "cli-promotion-git-token";
const ROLLOUT = "minHealthy: 300ms, progressDeadline: 30s, unknownAfter: 10s";

/** dev → prod (an approval, a freeze window far ahead, two waves); qa stands alone. */
export const FLEET = `apiVersion: flotilla.dev/v1alpha1
environments:
  - name: dev
    promotion: { rollout: { ${ROLLOUT} } }
  - name: prod
    promotion:
      from: [dev]
      digestOnly: true
      approvals: { count: 1, groups: [sre] }
      freeze:
        - { name: far-future, kind: deny, start: "2099-12-24T00:00:00Z", end: "2099-12-27T00:00:00Z" }
      rollout:
        ${ROLLOUT.split(", ").join("\n        ")}
        waves:
          - { name: canary, clusters: [prod-1], failureBudget: 0 }
          - { name: rest, percent: 100, failureBudget: 0 }
  - name: qa
    promotion: { rollout: { ${ROLLOUT}, waves: [{ name: all, percent: 100, failureBudget: 0 }] } }
clusters:
  - { name: dev-1, environment: dev }
  - { name: prod-1, environment: prod }
  - { name: prod-2, environment: prod }
  - { name: qa-1, environment: qa }
apps:
  - { name: shop, path: apps/shop }
`;
const CLUSTERS = ["dev-1", "prod-1", "prod-2", "qa-1"];
const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata: { name: shop, namespace: shop }
spec:
  template:
    spec:
      containers:
        - { name: shop, image: "ghcr.io/acme/shop:1.0" }
`;

export type Behaviour = "healthy" | "degraded" | "silent";

export interface PromotionHub {
  hub: Hub;
  home: string;
  behaviour: Map<string, Behaviour>;
  env(as: Person, extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  call<T>(method: string, path: string, as: Person, body?: unknown): Promise<{ status: number; body: T }>;
  stop(): Promise<void>;
}

export async function startPromotionHub(label: string): Promise<PromotionHub> {
  const tmp = await mkdtemp(join(tmpdir(), `cli-${label}-`));
  const home = await mkdtemp(join(tmpdir(), `cli-${label}-home-`));
  const server: GitHttpServer = await startGitHttpServer({ token: GIT_TOKEN });
  const url = server.createBareRepo("fleet");
  const work = join(tmp, "work");
  await createWorkRepo(work, { "flotilla.yaml": FLEET, "apps/shop/deployment.yaml": DEPLOYMENT });
  await pushWorkRepo(work, url, { token: GIT_TOKEN });
  const db: TestDatabase = await createTestDatabase(label);
  const nats: TestNats = createTestNats(label);
  const hub = await startHub({
    auth: { tokens: Object.values(people).map((p) => p.entry) },
    repo: { url, token: GIT_TOKEN, workDir: join(tmp, "reader") },
    promotionWriter: { url, token: GIT_TOKEN, workDir: join(tmp, "writer") },
    databaseUrl: db.url,
    natsUrl: nats.url,
    natsPrefix: nats.prefix,
    signingKey: generateSigningKey(),
    port: 0,
    pollIntervalMs: 60_000,
    promotionTickMs: 100,
    ...(process.env.FLOTILLA_TEST_HUB_LOG ? { logger: { level: process.env.FLOTILLA_TEST_HUB_LOG } } : {}),
  });
  const behaviour = new Map<string, Behaviour>();
  let reporting = true;
  const round = async () => {
    for (const cluster of CLUSTERS) {
      const b = behaviour.get(cluster) ?? "healthy";
      if (b === "silent") continue;
      const p = await hub.publisher.readPointer(cluster);
      if (!p) continue;
      const at = new Date().toISOString();
      const base = { cluster, agent: `${cluster}/fake/1`, at, generation: p.generation };
      const status: StatusReport = { ...base, id: randomUUID(), kind: "status", revision: p.revision, bundleDigest: p.bundleDigest, observedRevision: p.revision, syncState: "Synced", health: b === "degraded" ? "Degraded" : "Healthy", apps: [] };
      const hb: HeartbeatReport = { ...base, id: randomUUID(), kind: "heartbeat", deadlineSeconds: 30 };
      hub.nc.publish(reportSubject(hub.names, cluster, "status"), encodeJson(status));
      hub.nc.publish(reportSubject(hub.names, cluster, "heartbeat"), encodeJson(hb));
    }
  };
  const reporter = (async () => {
    while (reporting) {
      await round().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 150));
    }
  })();
  const call = async <T>(method: string, path: string, as: Person, body?: unknown) => {
    const res = await fetch(hub.url + path, {
      method,
      headers: { authorization: `Bearer ${people[as].token}`, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (await res.json()) as T };
  };
  return {
    hub,
    home,
    behaviour,
    env: (as, extra = {}) => ({ HOME: home, FLOTILLA_HUB_URL: hub.url, FLOTILLA_TOKEN: people[as].token, ...extra }),
    call,
    async stop() {
      reporting = false;
      await reporter;
      await hub.stop();
      await nats.cleanup();
      await db.drop();
      await server.close();
      await rm(tmp, { recursive: true, force: true });
      await rm(home, { recursive: true, force: true });
    },
  };
}
