// The GitOps lab, end to end on two clusters: env repo → hub → NATS → agents → kube-apiserver →
// Postgres → API. Every checkpoint ties the live state to the Git revision that produced it.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import type { KubeConfig } from "@kubernetes/client-node";
import { startLocalFleet, type LocalFleet } from "flotilla/local-fleet";
import { commitFiles, createWorkRepo, revertCommit } from "@flotilla/envrepo/testing";
import {
  createTestDatabase,
  createTestNats,
  kubeRequest,
  startControlPlane,
  waitFor,
  type ControlPlane,
  type TestDatabase,
  type TestNats,
} from "@flotilla/testkit";
import { useSharedControlPlane } from "@flotilla/testkit/vitest";
import { connect } from "@nats-io/transport-node";
import { Objm } from "@nats-io/obj";
import { Kvm } from "@nats-io/kv";
import { bundleStoreOf, canonicalJson, desiredKey, sha256Digest, signPointer, wireNames } from "@flotilla/wire";
import { consoleLogger, fleetFile, inventoryApiDeployment, type ClusterView } from "./support/env-repo.js";

const shared = useSharedControlPlane();
const ns = `shop-${randomBytes(3).toString("hex")}`;

const bothClusters = [
  { name: "dev-1", environment: "dev" },
  { name: "prod-1", environment: "prod" },
];
const deployment = (replicas: number) => inventoryApiDeployment({ namespace: ns, replicas, metadataLabels: true, containerPort: 80 });

interface DeploymentLive {
  metadata: { resourceVersion: string };
  spec: { replicas: number };
  status?: { readyReplicas?: number; availableReplicas?: number };
}

describe("the GitOps lab on two clusters", () => {
  let plane2: ControlPlane;
  let repoDir: string;
  let stateDir: string;
  let nats: TestNats;
  let database: TestDatabase;
  let fleet: LocalFleet;
  let db: Kysely<Record<string, never>>;
  let kube: Record<string, KubeConfig>;
  const revisions: Record<string, string> = {};

  const clusterView = async (name: string) => fleet.api<ClusterView>(`/v1/clusters/${name}`);
  const liveDeployment = async (name: string): Promise<DeploymentLive | undefined> => {
    const r = await kubeRequest<DeploymentLive>(kube[name]!, { method: "GET", path: `/apis/apps/v1/namespaces/${ns}/deployments/inventory-api` });
    return r.status === 200 ? r.body : undefined;
  };
  /** Both clusters report `revision` as observed, Synced, and run `replicas` ready replicas. */
  async function converged(revision: string, replicas: number): Promise<void> {
    for (const name of ["dev-1", "prod-1"]) {
      await waitFor(
        async () => {
          const v = await clusterView(name);
          const d = await liveDeployment(name);
          if (
            v.observedRevision === revision && v.syncState === "Synced" && v.desired?.revision === revision &&
            d?.spec.replicas === replicas && d.status?.readyReplicas === replicas && v.health === "Healthy"
          ) return true;
          // Thrown, so a timeout says what was seen last (with the pods and nodes behind it).
          const pods = await kubeRequest<{ items: { metadata: { name: string }; spec: { nodeName?: string }; status: { phase: string; conditions?: { type: string; status: string }[] } }[] }>(kube[name]!, { path: `/api/v1/namespaces/${ns}/pods` });
          const nodes = await kubeRequest<{ items: { metadata: { name: string }; status: { conditions?: { type: string; status: string }[] } }[] }>(kube[name]!, { path: `/api/v1/nodes` });
          const cond = (c?: { type: string; status: string }[]) => (c ?? []).map((x) => `${x.type}=${x.status}`).join(",");
          throw new Error(
            `seen: desired ${v.desired?.revision?.slice(0, 8)} observed ${v.observedRevision?.slice(0, 8)} ${v.syncState} ${v.health}; replicas ${d?.spec.replicas} ready ${d?.status?.readyReplicas}; ` +
              `pods ${pods.body.items.map((p) => `${p.metadata.name}:${p.status.phase}@${p.spec.nodeName ?? "-"}[${cond(p.status.conditions)}]`).join(" ")}; ` +
              `nodes ${nodes.body.items.map((n) => `${n.metadata.name}[${cond(n.status.conditions)}]`).join(" ")}`,
          );
        },
        { timeoutMs: 90_000, what: `${name} to run ${replicas} ready replicas at ${revision.slice(0, 8)}` },
      );
    }
  }

  beforeAll(async () => {
    plane2 = await startControlPlane({ name: "e2e-prod-1", nodes: 1 });
    kube = { "dev-1": shared.kubeConfig, "prod-1": plane2.kubeConfig };
    repoDir = await mkdtemp(join(tmpdir(), "flotilla-e2e-repo-"));
    stateDir = await mkdtemp(join(tmpdir(), "flotilla-e2e-state-"));
    nats = createTestNats("lab");
    database = await createTestDatabase("lab");
    db = new Kysely({ dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: database.url, max: 2 }) }) });
    revisions.R1 = await createWorkRepo(repoDir, {
      "flotilla.yaml": fleetFile(bothClusters),
      "apps/shop/00-namespace.yaml": `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${ns}\n`,
      "apps/shop/10-inventory-api.yaml": deployment(2),
    });
    fleet = await startLocalFleet({
      repoPath: repoDir,
      clusters: [
        { name: "dev-1", kubeconfig: shared.kubeConfig },
        { name: "prod-1", kubeconfig: plane2.kubeConfig },
      ],
      natsUrl: nats.url,
      natsPrefix: nats.prefix,
      databaseUrl: database.url,
      stateDir,
      pollIntervalMs: 3_600_000, // the test drives the hub with POST /v1/refresh
      heartbeatIntervalMs: 2_000,
      ...(process.env.FLOTILLA_E2E_LOG ? { agentLogger: (cluster: string) => consoleLogger(cluster) } : {}),
    });
  });

  afterAll(async () => {
    await fleet?.stop();
    await db?.destroy();
    for (const name of ["dev-1", "prod-1"]) {
      if (kube?.[name]) await kubeRequest(kube[name]!, { method: "DELETE", path: `/api/v1/namespaces/${ns}` }).catch(() => undefined);
    }
    await plane2?.stop();
    await database?.drop();
    await nats?.cleanup();
    await rm(repoDir, { recursive: true, force: true });
    await rm(stateDir, { recursive: true, force: true });
  });

  it("syncs both clusters to R1 with 2 replicas", async () => {
    await converged(revisions.R1!, 2);
    const clusters = await fleet.api<ClusterView[]>("/v1/clusters");
    expect(clusters.map((c) => c.name).sort()).toEqual(["dev-1", "prod-1"]);
    for (const c of clusters) expect(c).toMatchObject({ observedRevision: revisions.R1, syncState: "Synced", openDriftCount: 0 });
  });

  it("reverts an out-of-band scale to 5 and records the drift with its actor", async () => {
    // What `kubectl scale --replicas=5` does: the scale subresource, field manager kubectl-scale.
    const scaled = await kubeRequest(shared.kubeConfig, {
      method: "PATCH",
      path: `/apis/apps/v1/namespaces/${ns}/deployments/inventory-api/scale?fieldManager=kubectl-scale`,
      contentType: "application/merge-patch+json",
      body: { spec: { replicas: 5 } },
    });
    expect(scaled.status).toBe(200);
    await waitFor(async () => ((await liveDeployment("dev-1"))?.spec.replicas === 2 ? true : undefined), {
      timeoutMs: 30_000,
      what: "the agent to restore 2 replicas",
    });
    const rows = await waitFor(
      async () => {
        const r = await db
          .selectFrom("drift_events" as never)
          .selectAll()
          .where("cluster" as never, "=", "dev-1" as never)
          .execute();
        return r.length > 0 ? (r as unknown as { paths: { path: string; desired: unknown; live: unknown }[]; actor: string; action: string; kind: string; revision: string }[]) : undefined;
      },
      { timeoutMs: 30_000, what: "a drift row in Postgres" },
    );
    const row = rows.find((r) => r.paths.some((p) => p.path === "/spec/replicas"));
    expect(row).toBeDefined();
    expect(row!.paths.find((p) => p.path === "/spec/replicas")).toEqual({ path: "/spec/replicas", desired: 2, live: 5 });
    expect(row).toMatchObject({ actor: "kubectl-scale", action: "reverted", kind: "Deployment", revision: revisions.R1 });

    const ledger = await fleet.api<{ cluster: string; actor: string; paths: { path: string }[] }[]>(`/v1/drift?cluster=dev-1`);
    expect(ledger.some((e) => e.actor === "kubectl-scale" && e.paths.some((p) => p.path === "/spec/replicas"))).toBe(true);
    expect(await fleet.api<unknown[]>(`/v1/drift?cluster=prod-1`)).toEqual([]);
  });

  it("follows a commit to 3 replicas (R2) on both clusters", async () => {
    revisions.R2 = await commitFiles(repoDir, { "apps/shop/10-inventory-api.yaml": deployment(3) }, "inventory-api: 3 replicas");
    const r = await fleet.refresh();
    expect(r.revision).toBe(revisions.R2);
    await converged(revisions.R2, 3);
  });

  it("goes back to 2 replicas on git revert (R3), with a higher generation", async () => {
    const before = await clusterView("dev-1");
    revisions.R3 = await revertCommit(repoDir, revisions.R2!);
    await fleet.refresh();
    await converged(revisions.R3, 2);
    const after = await clusterView("dev-1");
    expect(after.desired!.generation).toBeGreaterThan(before.desired!.generation);
  });

  it("keeps every cluster on the last good revision when a commit has malformed YAML", async () => {
    const bad = await commitFiles(repoDir, { "apps/shop/20-broken.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: broken\n  labels: [unclosed\n" }, "broken manifest");
    const r = await fleet.refresh();
    expect(r.revision).toBe(bad);
    const { latest: failure } = await fleet.api<{ latest: { revision: string; errors: { message: string; location?: { file?: string; line?: number } }[] } }>("/v1/render-failures");
    expect(failure.revision).toBe(bad);
    expect(failure.errors[0]!.location).toMatchObject({ file: "apps/shop/20-broken.yaml" });
    expect(failure.errors[0]!.location!.line).toBeGreaterThan(0);
    for (const name of ["dev-1", "prod-1"]) {
      const v = await clusterView(name);
      expect(v.desired!.revision).toBe(revisions.R3);
      expect(v.observedRevision).toBe(revisions.R3);
    }
    // Fixing the repo (removing the file) resolves the failure. The fixed commit renders both
    // clusters byte for byte as R3, so no new pointer is issued: they keep running R3.
    const generations = await Promise.all(["dev-1", "prod-1"].map(async (n) => (await clusterView(n)).desired!.generation));
    const fixed = await commitFiles(repoDir, { "apps/shop/20-broken.yaml": null }, "remove broken manifest");
    expect((await fleet.refresh()).revision).toBe(fixed);
    await waitFor(async () => !(await fleet.api<{ latest: unknown }>("/v1/render-failures")).latest, { what: "the render failure resolved by the fix", timeoutMs: 30_000 });
    expect(await Promise.all(["dev-1", "prod-1"].map(async (n) => (await clusterView(n)).desired!.generation))).toEqual(generations);
    revisions.R4 = revisions.R3!;
    await converged(revisions.R4, 2);
  });

  it("refuses a bundle whose bytes do not match its digest", async () => {
    const names = wireNames(nats.prefix);
    const nc = await connect({ servers: nats.url });
    try {
      const current = await clusterView("dev-1");
      // A bundle the hub never made (7 replicas), stored under the digest of another bundle.
      const claimed = { apiVersion: "flotilla.dev/bundle/v1", cluster: "dev-1", revision: revisions.R4, apps: [] };
      const digest = sha256Digest(canonicalJson(claimed));
      const tampered = new TextEncoder().encode(canonicalJson({ ...claimed, apps: [{ name: "shop", policy: { drift: "enforce", prune: false, ignore: [] }, objects: [] }] }));
      const store = await new Objm(nc).create(bundleStoreOf(names, "dev-1"));
      await store.putBlob({ name: digest }, tampered);
      const pointer = signPointer(
        { cluster: "dev-1", revision: revisions.R4!, bundleDigest: digest, generation: current.desired!.generation + 1, issuedAt: new Date().toISOString() },
        fleet.signingKey,
      );
      const kv = await new Kvm(nc).open(names.desiredBucket);
      await kv.put(desiredKey("dev-1"), JSON.stringify(pointer));
      const refused = await waitFor(
        async () => {
          const v = await clusterView("dev-1");
          return v.lastError?.code === "FLOTILLA_ERR_DIGEST_MISMATCH" ? v : undefined;
        },
        { timeoutMs: 30_000, what: "the agent to report the digest mismatch" },
      );
      expect(refused.observedRevision).toBe(revisions.R4);
      expect((await liveDeployment("dev-1"))?.spec.replicas).toBe(2);
    } finally {
      await nc.close();
    }
  });

  it("resumes after an agent restart without writing unchanged objects", async () => {
    await fleet.stopAgent("prod-1");
    const before = await liveDeployment("prod-1");
    const nsBefore = await kubeRequest<{ metadata: { resourceVersion: string } }>(plane2.kubeConfig, { method: "GET", path: `/api/v1/namespaces/${ns}` });
    const agent = await fleet.startAgent("prod-1", "prod-1/restarted");
    await waitFor(async () => (agent.reconciler.counters.reconciles > 0 ? true : undefined), { timeoutMs: 30_000, what: "the restarted agent to reconcile" });
    await agent.reconciler.idle();
    await waitFor(
      async () => {
        const v = await clusterView("prod-1");
        return v.syncState === "Synced" && v.observedRevision === revisions.R4 ? true : undefined;
      },
      { timeoutMs: 30_000, what: "prod-1 Synced after the restart" },
    );
    const after = await liveDeployment("prod-1");
    const nsAfter = await kubeRequest<{ metadata: { resourceVersion: string } }>(plane2.kubeConfig, { method: "GET", path: `/api/v1/namespaces/${ns}` });
    expect(after!.metadata.resourceVersion).toBe(before!.metadata.resourceVersion);
    expect(nsAfter.body.metadata.resourceVersion).toBe(nsBefore.body.metadata.resourceVersion);
    const detail = await fleet.api<{ apps: { objects: { action: string }[] }[] }>("/v1/clusters/prod-1");
    expect(detail.apps.flatMap((a) => a.objects.map((o) => o.action))).toEqual(["unchanged", "unchanged"]);
  });
});
