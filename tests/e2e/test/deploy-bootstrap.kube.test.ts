// Bootstrap from deploy/ on a fresh control plane: the tenant agent's Namespace, ServiceAccount,
// Role and RoleBinding (deploy/agent/tenant) are applied as an admin would; a token is minted for
// that ServiceAccount with the TokenRequest API; `flotilla hub` and `flotilla agent` run as
// processes configured the way their Deployments configure them — the ConfigMaps' settings, the
// Secrets as `flotilla nats-config`, openssl and the docs make them, files where the pods mount
// them (under a temporary root) — the agent authenticated to Kubernetes only by that token. The
// cluster converges: the RBAC in deploy/ is enough for a tenant agent, and the manifests' settings
// are enough for the hub and the agent. Also: every object in deploy/ passes the apiserver's strict
// validation.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeConfig } from "@kubernetes/client-node";
import type { KubeObject } from "@flotilla/model";
import { fsFileView, renderKustomization } from "@flotilla/overlays";
import { createWorkRepo, pushWorkRepo, startGitHttpServer, type GitHttpServer } from "@flotilla/envrepo/testing";
import {
  createTestDatabase,
  freePort,
  kubeRequest,
  kubeRequestOk,
  startConfiguredNats,
  startControlPlane,
  waitFor,
  writeKubeconfig,
  type ControlPlane,
  type NatsServerProcess,
  type TestDatabase,
} from "@flotilla/testkit";
import { fleetFile, inventoryApiDeployment, type ClusterView } from "./support/env-repo.js";
import { apply } from "./support/server-side-apply.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const MAIN = join(ROOT, "services/cli/src/main.ts");
const TSX = import.meta.resolve("tsx");
const REPO_TOKEN = `repo-${randomBytes(12).toString("hex")}`;

function render(dir: string): KubeObject[] {
  const r = renderKustomization(fsFileView(ROOT), dir);
  if (!r.ok) throw new Error(`${dir}: ${r.error.message}`);
  return r.objects;
}

const configMap = (objs: KubeObject[], name: string) => {
  const cm = objs.find((o) => o.kind === "ConfigMap" && o.metadata.name === name) as (KubeObject & { data: Record<string, string> }) | undefined;
  if (!cm) throw new Error(`no ConfigMap ${name}`);
  return cm.data;
};

const envFile = (text: string): Record<string, string> =>
  Object.fromEntries(
    text
      .split("\n")
      .filter((l) => l.trim() && !l.trim().startsWith("#"))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );

/**
 * A Deployment's environment outside a pod: the ConfigMap's settings, with file paths moved under
 * `root` (where the test puts what the pod would have mounted) and the network addresses in
 * `addresses` — each must replace a setting the ConfigMap has.
 */
function podEnv(data: Record<string, string>, root: string, addresses: Record<string, string>): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(data)) env[k] = v.startsWith("/") ? join(root, v) : v;
  for (const [k, v] of Object.entries(addresses)) {
    expect(data, `the ConfigMap has no ${k} to point elsewhere`).toHaveProperty(k);
    env[k] = v;
  }
  return env;
}

interface Proc {
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** `flotilla <command>` as a process with exactly `env` (plus PATH and HOME). */
function flotillaProcess(command: string, env: Record<string, string>): Proc {
  const child = spawn(process.execPath, ["--conditions=@flotilla/source", "--import", TSX, MAIN, command], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  const keep = (d: Buffer) => {
    out = (out + d.toString()).slice(-8000);
    if (process.env.FLOTILLA_E2E_LOG) process.stderr.write(`[${command}] ${d.toString()}`);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    child,
    output: () => out,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** Probes and API calls a kubelet or an operator would make. */
async function httpGet(url: string, token?: string): Promise<{ status: number; body: string }> {
  try {
    const res = await fetch(url, token ? { headers: { authorization: `Bearer ${token}` } } : {});
    return { status: res.status, body: await res.text() };
  } catch {
    return { status: 0, body: "" };
  }
}

function openssl(args: string[]): void {
  const r = spawnSync("openssl", args, { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`openssl ${args.join(" ")}: ${r.stderr}`);
}

describe("bootstrap from deploy/ on a fresh control plane", () => {
  let plane: ControlPlane;
  let dir: string;
  let git: GitHttpServer;
  let nats: NatsServerProcess;
  let database: TestDatabase;
  let hub: Proc | undefined;
  let agent: Proc | undefined;
  let agentKube: KubeConfig;
  let revision: string;
  let hubUrl: string;
  let metricsUrl: string;
  const apiToken = `flt_${randomBytes(32).toString("base64url")}`;

  const tenant = render("deploy/agent/tenant");
  const agentConfig = configMap(tenant, "flotilla-agent-config");
  const CLUSTER = agentConfig["FLOTILLA_CLUSTER"]!;
  const NAMESPACE = agentConfig["FLOTILLA_NAMESPACES"]!.split(",")[0]!;
  const sa = tenant.find((o) => o.kind === "ServiceAccount")!;
  const alive = (p: Proc | undefined, what: string) => {
    if (p && p.child.exitCode !== null) throw new Error(`${what} exited (${p.child.exitCode}):\n${p.output()}`);
  };

  beforeAll(async () => {
    plane = await startControlPlane({ name: "flotilla-deploy", controllers: true, nodes: 1 });
    dir = await mkdtemp(join(tmpdir(), "flotilla-deploy-boot-"));
  });

  afterAll(async () => {
    await agent?.stop();
    await hub?.stop();
    await nats?.stop();
    await git?.close();
    await database?.drop();
    await plane?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("a cluster admin applies deploy/agent/tenant: Namespace, ServiceAccount, Role, RoleBinding, ConfigMap, Deployment", async () => {
    // Namespaces first, as kubectl apply orders them.
    const ordered = [...tenant].sort((a, b) => Number(b.kind === "Namespace") - Number(a.kind === "Namespace"));
    for (const o of ordered) await apply(plane.kubeConfig, o);
    const rb = await kubeRequestOk<{ subjects: { name: string; namespace: string }[] }>(plane.kubeConfig, {
      path: `/apis/rbac.authorization.k8s.io/v1/namespaces/${NAMESPACE}/rolebindings/flotilla-agent`,
    });
    expect(rb.body.subjects).toEqual([expect.objectContaining({ name: sa.metadata.name, namespace: NAMESPACE })]);
  });

  it("the ServiceAccount's minted token reaches the tenant's namespace and nothing else", async () => {
    const res = await kubeRequestOk<{ status?: { token?: string } }>(plane.kubeConfig, {
      method: "POST",
      path: `/api/v1/namespaces/${sa.metadata.namespace}/serviceaccounts/${sa.metadata.name}/token`,
      body: { apiVersion: "authentication.k8s.io/v1", kind: "TokenRequest", spec: { expirationSeconds: 3600 } },
    });
    const token = res.body.status?.token;
    expect(token).toBeTruthy();
    // Stands in for the in-cluster config of the pod (the same token, the same CA).
    agentKube = await writeKubeconfig(join(dir, "agent.kubeconfig"), {
      name: plane.name,
      user: `system:serviceaccount:${sa.metadata.namespace}:${sa.metadata.name}`,
      server: plane.server,
      caPem: plane.caPem,
      credentials: { token: token! },
    });
    expect((await kubeRequest(agentKube, { path: `/api/v1/namespaces/${NAMESPACE}/configmaps` })).status).toBe(200);
    expect((await kubeRequest(agentKube, { path: "/api/v1/namespaces" })).status).toBe(403);
    expect((await kubeRequest(agentKube, { path: "/api/v1/namespaces/default/configmaps" })).status).toBe(403);
    expect((await kubeRequest(agentKube, { path: "/apis/rbac.authorization.k8s.io/v1/clusterroles" })).status).toBe(403);
  });

  it("the hub and the tenant agent, configured as deploy/ configures them, converge the tenant's namespace", async () => {
    expect(agentKube, "needs the previous test's token").toBeDefined();
    // The env repo, served over HTTP with a token like a Git host.
    git = await startGitHttpServer({ token: REPO_TOKEN });
    const url = git.createBareRepo("env");
    const work = join(dir, "work");
    const fleet = fleetFile([{ name: CLUSTER, environment: "dev" }]).replace(`  - name: ${CLUSTER}\n    environment: dev\n`, `  - name: ${CLUSTER}\n    environment: dev\n    namespaces: [${NAMESPACE}]\n`);
    expect(fleet).toContain(`namespaces: [${NAMESPACE}]`);
    revision = await createWorkRepo(work, {
      "flotilla.yaml": fleet,
      "apps/shop/10-inventory-api.yaml": inventoryApiDeployment({ namespace: NAMESPACE, replicas: 1 }),
      "apps/shop/20-settings.yaml": `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shop-settings\n  namespace: ${NAMESPACE}\ndata:\n  greeting: hello\n`,
    });
    await pushWorkRepo(work, url, { token: REPO_TOKEN });

    // Secrets, made as docs/install.md says. NATS users: `flotilla nats-config`.
    const natsPort = await freePort();
    const gen = spawnSync(process.execPath, ["--conditions=@flotilla/source", "--import", TSX, MAIN, "nats-config", "--out", join(dir, "nats"), "--cluster", CLUSTER, "--listen", `127.0.0.1:${natsPort}`, "--jetstream-dir", join(dir, "js")], { cwd: ROOT, encoding: "utf8" });
    expect(gen.status, gen.stderr).toBe(0);
    nats = await startConfiguredNats(join(dir, "nats", "nats-server.conf"), natsPort);
    const natsUrl = `nats://127.0.0.1:${natsPort}`;
    database = await createTestDatabase("deploy_boot");

    // The pods' mounts under one root: the hub's signing key and tokens file, the agent's hub.pub.
    const root = join(dir, "root");
    const hubObjects = render("deploy/hub");
    const hubConfig = configMap(hubObjects, "flotilla-hub-config");
    const keyPath = join(root, hubConfig["FLOTILLA_SIGNING_KEY"]!);
    const pubPath = join(root, agentConfig["FLOTILLA_HUB_PUBLIC_KEY"]!);
    const tokensPath = join(root, hubConfig["FLOTILLA_API_TOKENS_FILE"]!);
    for (const p of [keyPath, pubPath, tokensPath]) await mkdir(dirname(p), { recursive: true });
    openssl(["genpkey", "-algorithm", "ed25519", "-out", keyPath]);
    openssl(["pkey", "-in", keyPath, "-pubout", "-out", pubPath]);
    // The hashed tokens file (what `flotilla token mint` writes): only the token's digest.
    const sha256 = createHash("sha256").update(apiToken).digest("hex");
    await writeFile(tokensPath, JSON.stringify({ tokens: [{ subject: "installer", roles: ["admin"], environments: [], groups: [], sha256 }] }));

    const hubPort = await freePort();
    hubUrl = `http://127.0.0.1:${hubPort}`;
    const hubDeployment = hubObjects.find((o) => o.kind === "Deployment") as KubeObject & { spec: { template: { spec: { containers: { env: { name: string; value?: string }[] }[] } } } };
    const literal = Object.fromEntries(hubDeployment.spec.template.spec.containers[0]!.env.filter((e) => e.value !== undefined).map((e) => [e.name, e.value!]));
    hub = flotillaProcess("hub", {
      // deploy/nats runs 3 nodes (FLOTILLA_NATS_REPLICAS "3" in the ConfigMap); this test's NATS is one.
      ...podEnv(hubConfig, root, { FLOTILLA_REPO: url, FLOTILLA_LISTEN: `127.0.0.1:${hubPort}`, NATS_URL: natsUrl, FLOTILLA_NATS_REPLICAS: "1" }),
      // Secret flotilla-hub-nats (hub.env), flotilla-hub-database, flotilla-hub-repo.
      ...envFile(await readFile(join(dir, "nats", "hub.env"), "utf8")),
      DATABASE_URL: database.url,
      FLOTILLA_REPO_TOKEN: REPO_TOKEN,
      ...literal,
    });
    // The hub Deployment's probes.
    await waitFor(
      async () => {
        alive(hub, "flotilla hub");
        return (await httpGet(`${hubUrl}/readyz`)).status === 200 || undefined;
      },
      { timeoutMs: 90_000, what: "the hub's readiness probe GET /readyz" },
    );
    expect((await httpGet(`${hubUrl}/healthz`)).status).toBe(200);

    const metricsPort = await freePort();
    metricsUrl = `http://127.0.0.1:${metricsPort}/metrics`;
    await mkdir(join(root, agentConfig["FLOTILLA_STATE_DIR"]!), { recursive: true });
    agent = flotillaProcess("agent", {
      ...podEnv(agentConfig, root, { NATS_URL: natsUrl, FLOTILLA_METRICS_LISTEN: `127.0.0.1:${metricsPort}`, FLOTILLA_HEARTBEAT_INTERVAL: "2" }),
      // Secret flotilla-agent-nats (agent-<cluster>.env).
      ...envFile(await readFile(join(dir, "nats", `agent-${CLUSTER}.env`), "utf8")),
      // The pod's ServiceAccount token.
      KUBECONFIG: join(dir, "agent.kubeconfig"),
    });

    let last = "";
    const view = await waitFor(
      async () => {
        alive(hub, "flotilla hub");
        alive(agent, "flotilla agent");
        const r = await httpGet(`${hubUrl}/v1/clusters/${CLUSTER}`, apiToken);
        last = `${r.status} ${r.body}`;
        if (r.status !== 200) return undefined;
        const v = JSON.parse(r.body) as ClusterView;
        return v.syncState === "Synced" && v.observedRevision === revision ? v : undefined;
      },
      { timeoutMs: 90_000, intervalMs: 500, what: `${CLUSTER} Synced at ${revision}` },
    ).catch((err: Error) => {
      throw new Error(`${err.message}\nlast GET /v1/clusters/${CLUSTER}: ${last}\n--- agent ---\n${agent?.output().slice(-3000)}`);
    });
    expect(view.lastError).toBeNull();

    // Live in the tenant's namespace, applied by the agent's identity; the inventory beside it.
    const live = await kubeRequestOk<{ metadata: { labels: Record<string, string>; managedFields: { manager: string }[] } }>(plane.kubeConfig, {
      path: `/api/v1/namespaces/${NAMESPACE}/configmaps/shop-settings`,
    });
    expect(live.body.metadata.labels).toMatchObject({ "flotilla.dev/app": "shop", "flotilla.dev/cluster": CLUSTER });
    expect(live.body.metadata.managedFields.map((m) => m.manager)).toContain("flotilla");
    expect((await kubeRequest(plane.kubeConfig, { path: `/api/v1/namespaces/${NAMESPACE}/configmaps/flotilla-inventory-shop` })).status).toBe(200);
    await waitFor(
      async () => {
        const d = await kubeRequest<{ status?: { availableReplicas?: number } }>(plane.kubeConfig, { path: `/apis/apps/v1/namespaces/${NAMESPACE}/deployments/inventory-api` });
        return d.body?.status?.availableReplicas === 1 || undefined;
      },
      { timeoutMs: 60_000, what: "inventory-api available" },
    );
    // The agent Deployment's liveness probe answers.
    expect((await httpGet(metricsUrl)).status).toBe(200);
  }, 300_000);

  it("every object in deploy/ passes the apiserver's strict validation", async () => {
    await apply(plane.kubeConfig, { apiVersion: "v1", kind: "Namespace", metadata: { name: "flotilla-system" } });
    const dirs = ["deploy/hub", "deploy/agent/cluster-wide", "deploy/nats/base", "deploy/nats/leafnodes", "deploy/nats/leaf-remote", "deploy/postgres"];
    let checked = 0;
    for (const d of dirs) {
      for (const o of render(d)) {
        await apply(plane.kubeConfig, o, { dryRun: true }).catch((err: Error) => {
          throw new Error(`${d}: ${o.kind} ${o.metadata.name}: ${err.message}`);
        });
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(30);
  });
});
