// Promotion end to end with real agents on a real kube-apiserver: dev → stage → prod as Git
// commits pushed to a Git server, pointers over NATS, agents applying to their namespaces and
// reporting health, Postgres holding the promotion's state. Five tenant clusters share the
// control plane (one namespace each) so the test fits two cores: dev-a; stage-a; prod-a (the
// canary), prod-b, prod-c.
//
// The canary goes Degraded for a real reason: its namespace gets a pod quota of 1, so the new
// version's pod cannot surge next to the old one; the Deployment passes its progress deadline and
// the agent reports it Degraded. The promotion halts after one wave commit, and the rollback (a
// revert of that wave's lock file) brings the old release back.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fs from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import git from "isomorphic-git";
import http from "isomorphic-git/http/node";
import { startLocalFleet, type LocalFleet } from "flotilla/local-fleet";
import { createWorkRepo, pushWorkRepo, startGitHttpServer, type GitHttpServer } from "@flotilla/envrepo/testing";
import { createTestDatabase, createTestNats, kubeRequest, waitFor, type TestDatabase, type TestNats } from "@flotilla/testkit";
import { useSharedControlPlane } from "@flotilla/testkit/vitest";

const shared = useSharedControlPlane();
const TOKEN = "promotion-e2e";
const suffix = randomBytes(3).toString("hex");
const CLUSTERS = [
  { name: "dev-a", environment: "dev" },
  { name: "stage-a", environment: "stage" },
  { name: "prod-a", environment: "prod" },
  { name: "prod-b", environment: "prod" },
  { name: "prod-c", environment: "prod" },
];
const nsOf = (cluster: string) => `prm-${suffix}-${cluster}`;
const D1 = `sha256:${"1".repeat(64)}`;
const D2 = `sha256:${"2".repeat(64)}`;
const ROLLOUT = "minHealthy: 1s, progressDeadline: 90s, unknownAfter: 60s";

const FLEET = `apiVersion: flotilla.dev/v1alpha1
environments:
  - name: dev
    promotion: { autoPromote: true, rollout: { ${ROLLOUT} } }
  - name: stage
    promotion: { from: [dev], autoPromote: true, soak: 2s, rollout: { ${ROLLOUT} } }
  - name: prod
    promotion:
      from: [stage]
      digestOnly: true
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
`;
// No namespace: each tenant agent places it in its own. A progress deadline so a stuck rollout
// is reported by the deployment controller (ProgressDeadlineExceeded → Degraded).
const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata: { name: web }
spec:
  replicas: 1
  progressDeadlineSeconds: 10
  strategy: { type: RollingUpdate, rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } }
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers: [{ name: web, image: "ghcr.io/acme/web:1.0" }]
`;

interface View {
  id: string;
  state: string;
  reason: string | null;
  releaseId: string;
  commits: { revision: string }[];
  waves: { name: string; clusters: { cluster: string; outcome: string; generation: number | null }[] }[];
}

describe("promotion with real agents", () => {
  let tmp: string;
  let server: GitHttpServer;
  let url: string;
  let nats: TestNats;
  let database: TestDatabase;
  let fleet: LocalFleet;

  const post = <T,>(path: string, body: unknown) => fleet.api<T>(path, { method: "POST", body });
  const promotion = async (id: string) => (await fleet.api<{ promotion: View }>(`/v1/promotions/${id}`)).promotion;
  const waitState = (id: string, states: string[], what: string, timeoutMs = 180_000) =>
    waitFor(
      async () => {
        const p = await promotion(id);
        if (states.includes(p.state)) return p;
        throw new Error(`${p.state} ${p.reason ?? ""} ${JSON.stringify(p.waves.map((w) => w.clusters.map((c) => `${c.cluster}:${c.outcome}`)))}`);
      },
      { what, timeoutMs, intervalMs: 250 },
    );
  const promotionIn = (release: string, env: string) =>
    waitFor(async () => (await fleet.api<{ promotions: View[] & { environment: string }[] }>(`/v1/releases/${release}`)).promotions.find((p) => (p as unknown as { environment: string }).environment === env), {
      what: `a promotion of ${release} into ${env}`,
      timeoutMs: 120_000,
    });
  const liveImage = async (cluster: string) => {
    const r = await kubeRequest<{ spec: { template: { spec: { containers: { image: string }[] } } } }>(shared.kubeConfig, { path: `/apis/apps/v1/namespaces/${nsOf(cluster)}/deployments/web` });
    return r.status === 200 ? r.body.spec.template.spec.containers[0]!.image : undefined;
  };
  const generationOf = async (cluster: string) => (await fleet.hub.publisher.readPointer(cluster))!.generation;
  const trailersOf = async (promotionId: string) => {
    const dir = await mkdtemp(join(tmp, "log-"));
    await git.clone({ fs, http, dir, url, singleBranch: true, noCheckout: true, onAuth: () => ({ username: "x-access-token", password: TOKEN }) });
    return (await git.log({ fs, dir, depth: 100 })).filter((e) => e.commit.message.includes(`Flotilla-Promotion: ${promotionId}\n`)).map((e) => e.commit.message);
  };

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), "e2e-promotion-"));
    for (const c of CLUSTERS) {
      await kubeRequest(shared.kubeConfig, { method: "POST", path: "/api/v1/namespaces", body: { apiVersion: "v1", kind: "Namespace", metadata: { name: nsOf(c.name) } } });
    }
    server = await startGitHttpServer({ token: TOKEN });
    url = server.createBareRepo("fleet");
    await createWorkRepo(join(tmp, "work"), { "flotilla.yaml": FLEET, "apps/web/deployment.yaml": DEPLOYMENT });
    await pushWorkRepo(join(tmp, "work"), url, { token: TOKEN });
    nats = createTestNats("e2epromo");
    database = await createTestDatabase("e2epromo");
    fleet = await startLocalFleet({
      repo: { url, token: TOKEN, workDir: join(tmp, "reader") },
      promotionWriter: { url, token: TOKEN, workDir: join(tmp, "writer") },
      clusters: CLUSTERS.map((c) => ({ name: c.name, kubeconfig: shared.kubeConfig, namespaces: [nsOf(c.name)] })),
      natsUrl: nats.url,
      natsPrefix: nats.prefix,
      databaseUrl: database.url,
      stateDir: join(tmp, "agents"),
      pollIntervalMs: 60_000,
      heartbeatIntervalMs: 2_000,
      promotionTickMs: 250,
    });
    // Every agent has applied the base (web:1.0) and reports it healthy.
    for (const c of CLUSTERS) {
      await waitFor(async () => (await fleet.api<{ syncState: string; health: string }>(`/v1/clusters/${c.name}`)).health === "Healthy", { what: `${c.name} healthy on the base`, timeoutMs: 120_000 });
    }
  }, 300_000);

  afterAll(async () => {
    await fleet?.stop();
    await nats?.cleanup();
    await database?.drop();
    await server?.close();
    for (const c of CLUSTERS) await kubeRequest(shared.kubeConfig, { method: "DELETE", path: `/api/v1/namespaces/${nsOf(c.name)}` }).catch(() => undefined);
    if (tmp) await rm(tmp, { recursive: true, force: true });
  });

  let release1: string;
  let prod1: View;

  it("release 1 goes dev → stage by itself, then prod in two waves after an approval; each cluster runs the pinned digest", async () => {
    release1 = (await post<{ release: { id: string } }>("/v1/releases", { app: "web", sourceRevision: "r1", images: [{ name: "ghcr.io/acme/web", digest: D1 }] })).release.id;
    await waitState((await promotionIn(release1, "dev")).id, ["Succeeded"], "dev");
    expect(await liveImage("dev-a")).toBe(`ghcr.io/acme/web@${D1}`);
    await waitState((await promotionIn(release1, "stage")).id, ["Succeeded"], "stage");
    prod1 = (await post<{ promotion: View }>("/v1/promotions", { release: release1, environment: "prod" })).promotion;
    expect(await liveImage("prod-b")).toBe("ghcr.io/acme/web:1.0");
    await fleet.hub.promotionOps.approve(prod1.id, { subject: "carol", groups: [] });
    const done = await waitState(prod1.id, ["Succeeded"], "prod");
    expect(done.waves.map((w) => [w.name, w.clusters.map((c) => `${c.cluster}:${c.outcome}`)])).toEqual([
      ["canary", ["prod-a:Succeeded"]],
      ["rest", ["prod-b:Succeeded", "prod-c:Succeeded"]],
    ]);
    for (const c of ["prod-a", "prod-b", "prod-c"]) expect(await liveImage(c)).toBe(`ghcr.io/acme/web@${D1}`);
    const messages = await trailersOf(prod1.id);
    expect(messages.map((m) => /Flotilla-Wave: (\S+)/.exec(m)![1])).toEqual(["2/2", "1/2"]);

    // One call each: what runs on prod-c and why; the fleet matrix; prod-c's pointer history.
    type Provenance = { clusters: { cluster: string; commit: { message: string } | null; agent: string | null; pinnedBy: { release: string; promotion: string } | null; objects: { kind: string; images: string[]; appliedAt: string }[] }[] };
    const prov = await fleet.api<Provenance>("/v1/provenance?app=web&cluster=prod-c&kind=Deployment");
    expect(prov.clusters).toHaveLength(1);
    expect(prov.clusters[0]).toMatchObject({ cluster: "prod-c", pinnedBy: { release: release1, promotion: prod1.id }, agent: expect.stringMatching(/^prod-c\//) });
    expect(prov.clusters[0]!.commit!.message).toBe("Promote web " + release1 + " to prod: wave 2/2 (rest)");
    expect(prov.clusters[0]!.objects[0]!.images).toEqual([`ghcr.io/acme/web@${D1}`]);
    const matrix = await fleet.api<{ environments: { name: string; clusters: { name: string; health: string; apps: { name: string; release: string | null }[] }[] }[] }>("/v1/fleet/matrix");
    expect(matrix.environments.map((e) => e.name)).toEqual(["dev", "stage", "prod"]);
    expect(matrix.environments[2]!.clusters.map((c) => [c.name, c.apps[0]!.release])).toEqual([["prod-a", release1], ["prod-b", release1], ["prod-c", release1]]);
    const history = await fleet.api<{ pointers: { generation: number; commit?: { message: string } }[] }>("/v1/clusters/prod-c/pointers");
    expect(history.pointers.map((p) => p.generation)).toEqual([2, 1]);
  });

  it("release 2's canary cannot start its new pod (pod quota): Degraded → Halted after one wave commit; rollback restores release 1 at a higher generation", async () => {
    const release2 = (await post<{ release: { id: string } }>("/v1/releases", { app: "web", sourceRevision: "r2", images: [{ name: "ghcr.io/acme/web", digest: D2 }] })).release.id;
    await waitState((await promotionIn(release2, "stage")).id, ["Succeeded"], "release 2 in stage");

    // prod-a's namespace allows one pod: the old one. The new version's surge pod is refused.
    await kubeRequest(shared.kubeConfig, {
      method: "POST",
      path: `/api/v1/namespaces/${nsOf("prod-a")}/resourcequotas`,
      body: { apiVersion: "v1", kind: "ResourceQuota", metadata: { name: "one-pod" }, spec: { hard: { pods: "1" } } },
    });
    await waitFor(async () => {
      const q = await kubeRequest<{ status?: { used?: { pods?: string } } }>(shared.kubeConfig, { path: `/api/v1/namespaces/${nsOf("prod-a")}/resourcequotas/one-pod` });
      return q.body.status?.used?.pods === "1";
    }, { what: "the quota controller counting prod-a's pod", timeoutMs: 60_000 });

    const genB = await generationOf("prod-b");
    const prod2 = (await post<{ promotion: View }>("/v1/promotions", { release: release2, environment: "prod" })).promotion;
    await fleet.hub.promotionOps.approve(prod2.id, { subject: "carol", groups: [] });
    const halted = await waitState(prod2.id, ["Halted"], "the canary halts the promotion");
    expect(halted.reason).toMatch(/wave 1 \(canary\): 1 failed cluster\(s\) in this wave, budget 0/);
    expect(halted.waves[0]!.clusters[0]).toMatchObject({ cluster: "prod-a", outcome: expect.stringMatching(/^(Failed|TimedOut)$/) });
    expect(halted.commits).toHaveLength(1);
    expect(await trailersOf(prod2.id)).toHaveLength(1);
    expect(await generationOf("prod-b")).toBe(genB);
    expect(await liveImage("prod-b")).toBe(`ghcr.io/acme/web@${D1}`);
    expect(await liveImage("prod-a")).toBe(`ghcr.io/acme/web@${D2}`);

    const genA = await generationOf("prod-a");
    const rollback = (await post<{ promotion: View }>(`/v1/promotions/${prod2.id}/rollback`, { reason: "canary degraded" })).promotion;
    const rolledBack = await waitState(rollback.id, ["Succeeded"], "the rollback");
    expect(rolledBack.releaseId).toBe(release1);
    expect(await liveImage("prod-a")).toBe(`ghcr.io/acme/web@${D1}`);
    expect(await generationOf("prod-a")).toBeGreaterThan(genA);
    const [revert] = await trailersOf(rollback.id);
    expect(revert).toMatch(/^Revert promotion /);
    expect(revert).toContain(`Flotilla-Rollback-Of: ${prod2.id}`);
  });
});
