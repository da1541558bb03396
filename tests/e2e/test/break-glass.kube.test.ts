// Break-glass end to end on one cluster: API → Postgres (window + audit) → hub-signed control
// record in NATS KV → agent → kube-apiserver. While a window covers the app the agent reports the
// out-of-band scale as blocked-by-break-glass and leaves it; at expiry it reverts by itself; a
// DELETE ends a window early; a record signed by another key changes nothing.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startLocalFleet, type LocalFleet } from "flotilla/local-fleet";
import { Role } from "@flotilla/hub";
import { createWorkRepo } from "@flotilla/envrepo/testing";
import { createTestDatabase, createTestNats, kubeRequest, waitFor, type TestDatabase, type TestNats } from "@flotilla/testkit";
import { useSharedControlPlane } from "@flotilla/testkit/vitest";
import { connect } from "@nats-io/transport-node";
import { Kvm } from "@nats-io/kv";
import { controlKey, generateSigningKey, signControl, wireNames } from "@flotilla/wire";
import { consoleLogger, fleetFile, inventoryApiDeployment, type ClusterView } from "./support/env-repo.js";

const shared = useSharedControlPlane();
const ns = `bg-${randomBytes(3).toString("hex")}`;
const CLUSTER = "dev-1";
const DEPLOYMENT_KEY = `apps/Deployment/${ns}/inventory-api`;

interface Window {
  id: string;
  expiresAt: string;
  endedAt?: string;
  endedBy?: string;
  controlGeneration: number | null;
}
interface DriftEvent {
  id: string;
  action: string;
  actor: string;
  detectedAt: string;
  paths: { path: string; desired: unknown; live: unknown }[];
}
interface AuditEntry {
  windowId: string;
  event: string;
  actor: string;
  reason: string | null;
  window: { author: string; reason: string };
}

describe("break-glass on one cluster", () => {
  let repoDir: string;
  let stateDir: string;
  let nats: TestNats;
  let database: TestDatabase;
  let fleet: LocalFleet;

  const replicas = async (): Promise<number | undefined> => {
    const r = await kubeRequest<{ spec: { replicas: number } }>(shared.kubeConfig, { path: `/apis/apps/v1/namespaces/${ns}/deployments/inventory-api` });
    return r.status === 200 ? r.body.spec.replicas : undefined;
  };
  /** What `kubectl scale` does: the scale subresource, field manager kubectl-scale. */
  const scaleTo = async (n: number) => {
    const r = await kubeRequest(shared.kubeConfig, {
      method: "PATCH",
      path: `/apis/apps/v1/namespaces/${ns}/deployments/inventory-api/scale?fieldManager=kubectl-scale`,
      contentType: "application/merge-patch+json",
      body: { spec: { replicas: n } },
    });
    expect(r.status).toBe(200);
  };
  /** The drift event of the replicas field scaled to `live` with `action`, once ingested. */
  const driftRow = (live: number, action: string, timeoutMs = 30_000) =>
    waitFor(
      async () => {
        const events = await fleet.api<DriftEvent[]>(`/v1/drift?cluster=${CLUSTER}`);
        return events.find((e) => e.action === action && e.paths.some((p) => p.path === "/spec/replicas" && p.live === live));
      },
      { timeoutMs, what: `a drift row: replicas ${live}, action ${action}` },
    );
  const agent = () => fleet.agents.get(CLUSTER)!;

  beforeAll(async () => {
    repoDir = await mkdtemp(join(tmpdir(), "flotilla-bg-repo-"));
    stateDir = await mkdtemp(join(tmpdir(), "flotilla-bg-state-"));
    nats = createTestNats("break-glass-e2e");
    database = await createTestDatabase("break_glass_e2e");
    await createWorkRepo(repoDir, {
      "flotilla.yaml": fleetFile([{ name: CLUSTER, environment: "dev" }]),
      "apps/shop/00-namespace.yaml": `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${ns}\n`,
      "apps/shop/10-inventory-api.yaml": inventoryApiDeployment({ namespace: ns, replicas: 2 }),
    });
    fleet = await startLocalFleet({
      repoPath: repoDir,
      clusters: [{ name: CLUSTER, kubeconfig: shared.kubeConfig }],
      natsUrl: nats.url,
      natsPrefix: nats.prefix,
      databaseUrl: database.url,
      stateDir,
      pollIntervalMs: 3_600_000,
      heartbeatIntervalMs: 2_000,
      // Two on-call operators; the audit trail names whoever's token made the change.
      apiUsers: [
        { subject: "ada", roles: [Role.Operator] },
        { subject: "grace", roles: [Role.Operator] },
      ],
      ...(process.env.FLOTILLA_E2E_LOG ? { agentLogger: (cluster: string) => consoleLogger(cluster) } : {}),
    });
    await waitFor(
      async () => {
        const v = await fleet.api<ClusterView>(`/v1/clusters/${CLUSTER}`);
        return v.syncState === "Synced" && (await replicas()) === 2 ? true : undefined;
      },
      { timeoutMs: 90_000, what: `${CLUSTER} Synced with 2 replicas` },
    );
  });

  afterAll(async () => {
    await fleet?.stop();
    await kubeRequest(shared.kubeConfig, { method: "DELETE", path: `/api/v1/namespaces/${ns}` }).catch(() => undefined);
    await database?.drop();
    await nats?.cleanup();
    await rm(repoDir, { recursive: true, force: true });
    await rm(stateDir, { recursive: true, force: true });
  });

  it("leaves drift in a covered app while the window is open and reverts it by itself at expiry", async () => {
    const window = await fleet.api<Window>(`/v1/clusters/${CLUSTER}/break-glass`, {
      method: "POST",
      as: "ada",
      body: { scope: { kind: "app", app: "shop" }, reason: "INC-1: scaling by hand", ttlSeconds: 12 },
    });
    expect(window.controlGeneration).not.toBeNull();
    const expiresAt = Date.parse(window.expiresAt);
    await waitFor(() => agent().breakGlass.covers("shop", DEPLOYMENT_KEY) || undefined, { what: "the agent to hold the window" });
    const reverts = agent().reconciler.counters.reverts;

    await scaleTo(5);
    const blocked = await driftRow(5, "blocked-by-break-glass");
    expect(blocked.actor).toBe("kubectl-scale");
    // The drift was reported and left in place: still 5, no revert written, window still open.
    expect(await replicas()).toBe(5);
    expect(agent().reconciler.counters.reverts).toBe(reverts);
    expect(Date.now()).toBeLessThan(expiresAt);

    // At expiry the agent resumes on its own: no event on the object, no call to the hub.
    await waitFor(async () => ((await replicas()) === 2 ? true : undefined), { timeoutMs: 40_000, what: "the agent to restore 2 replicas after the expiry" });
    const reverted = await driftRow(5, "reverted");
    expect(Date.parse(reverted.detectedAt)).toBeGreaterThanOrEqual(expiresAt);
    expect(agent().reconciler.counters.reverts).toBeGreaterThan(reverts);

    // The hub's sweep marked it expired; the audit trail has the start and the expiry.
    const audit = await waitFor(
      async () => {
        const a = await fleet.api<AuditEntry[]>(`/v1/break-glass/audit?cluster=${CLUSTER}`);
        const mine = a.filter((e) => e.windowId === window.id);
        return mine.some((e) => e.event === "expired") ? mine : undefined;
      },
      { what: "the expiry in the audit trail" },
    );
    expect(audit.map((e) => [e.event, e.actor, e.reason])).toEqual([
      ["expired", "flotilla-hub", "expired"],
      ["started", "ada", "INC-1: scaling by hand"],
    ]);
    for (const e of audit) expect(e.window).toMatchObject({ author: "ada", reason: "INC-1: scaling by hand" });
    expect(await fleet.api<Window[]>(`/v1/clusters/${CLUSTER}/break-glass`)).toEqual([]);
  });

  it("ends a window early on DELETE and enforcement resumes at once", async () => {
    const window = await fleet.api<Window>(`/v1/clusters/${CLUSTER}/break-glass`, {
      method: "POST",
      body: {
        scope: { kind: "object", object: { group: "apps", kind: "Deployment", namespace: ns, name: "inventory-api" } },
        reason: "INC-2: load test",
        ttlSeconds: 3600,
      },
      as: "ada",
    });
    await waitFor(() => agent().breakGlass.covers("shop", DEPLOYMENT_KEY) || undefined, { what: "the agent to hold the window" });
    expect((await fleet.api<Window[]>("/v1/break-glass")).map((w) => w.id)).toEqual([window.id]);
    await scaleTo(4);
    await driftRow(4, "blocked-by-break-glass");
    expect(await replicas()).toBe(4);

    const ended = await fleet.api<Window>(`/v1/clusters/${CLUSTER}/break-glass/${window.id}`, {
      method: "DELETE",
      as: "grace",
      body: { reason: "load test done" },
    });
    expect(ended).toMatchObject({ id: window.id, endedBy: "grace" });
    await waitFor(async () => ((await replicas()) === 2 ? true : undefined), { timeoutMs: 30_000, what: "the agent to restore 2 replicas after the DELETE" });
    await driftRow(4, "reverted");
    // Well before the hour the window was opened for.
    expect(Date.now()).toBeLessThan(Date.parse(window.expiresAt));
    const audit = await fleet.api<AuditEntry[]>(`/v1/break-glass/audit?cluster=${CLUSTER}`);
    expect(audit.filter((e) => e.windowId === window.id).map((e) => [e.event, e.actor, e.reason])).toEqual([
      ["ended", "grace", "load test done"],
      ["started", "ada", "INC-2: load test"],
    ]);
    expect(await fleet.api<Window[]>("/v1/break-glass")).toEqual([]);
  });

  it("refuses a control record signed by another key: its window does not take effect", async () => {
    const names = wireNames(nats.prefix);
    const nc = await connect({ servers: nats.url });
    try {
      const refusedBefore = agent().breakGlass.counters.refused;
      const intruder = generateSigningKey();
      const now = Date.now();
      // Someone with write access to the bucket tries to silence enforcement for the whole cluster.
      const forged = signControl(
        {
          cluster: CLUSTER,
          generation: agent().breakGlass.generation + 1_000_000,
          issuedAt: new Date(now).toISOString(),
          windows: [
            {
              id: "forged",
              cluster: CLUSTER,
              scope: { kind: "cluster" },
              reason: "let me in",
              author: "mallory",
              startedAt: new Date(now).toISOString(),
              expiresAt: new Date(now + 3_600_000).toISOString(),
            },
          ],
        },
        intruder,
      );
      const kv = await new Kvm(nc).open(names.desiredBucket);
      await kv.put(controlKey(CLUSTER), JSON.stringify(forged));
      await waitFor(() => (agent().breakGlass.counters.refused > refusedBefore ? true : undefined), { what: "the agent to refuse the forged record" });
      expect(agent().breakGlass.refusal?.error.code).toBe("FLOTILLA_ERR_SIGNATURE_INVALID");
      expect(agent().breakGlass.covers("shop", DEPLOYMENT_KEY)).toBe(false);

      await scaleTo(6);
      await waitFor(async () => ((await replicas()) === 2 ? true : undefined), { timeoutMs: 30_000, what: "the agent to restore 2 replicas" });
      await driftRow(6, "reverted");
      expect(await fleet.api<Window[]>("/v1/break-glass")).toEqual([]);
    } finally {
      await nc.close();
    }
  });
});
