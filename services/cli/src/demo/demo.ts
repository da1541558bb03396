// `flotilla demo` (npm run demo): the GitOps lab, run by Flotilla end to end on embedded defaults.
// Two local control planes (dev-1, prod-1), an env repo made from examples/env-repo (a bare
// repository the hub reads and pushes promotion commits to), the hub on PGlite and the agents;
// NATS from NATS_URL, 127.0.0.1:4222, or a nats-server it starts. Then a promotion of the app
// "web" dev → stage → prod across four tenant clusters on the same planes, with a canary that
// halts it and a rollback. Every checkpoint is printed with the Git revision that produced it;
// everything is cleaned up at exit.
import { execFileSync } from "node:child_process";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { openEnvRepoWriter } from "@flotilla/envrepo";
import { createWorkRepo, readFilesFrom } from "@flotilla/envrepo/testing";
import { kubeRequest, startControlPlane, waitFor, type ControlPlane } from "@flotilla/testkit";
import { Role } from "@flotilla/hub";
import { startLocalFleet, type LocalFleet } from "../local-fleet.js";
import { createProcessLogger, LOG_LEVEL_ENV, parseLogLevel } from "../process-logger.js";
import { resolveNats, type DemoNats } from "./demo-nats.js";
import { printFleet, say, step, type FleetRow } from "./demo-print.js";
import { demoPromotionFiles, runPromotionAct, TENANTS } from "./demo-promotion.js";

const EXAMPLE = fileURLToPath(new URL("../../../../examples/env-repo", import.meta.url));
const CLUSTERS = ["dev-1", "prod-1"] as const;
const DEPLOYMENT_FILE = "apps/shop/10-inventory-api.yaml";

interface DeploymentLive {
  spec: { replicas: number };
  status?: { readyReplicas?: number };
}

export async function runDemo(argv: string[]): Promise<number> {
  if (argv.includes("--help")) {
    console.log(`Usage: flotilla demo [--log-level LEVEL]\n\nWalks the GitOps lab end to end on two local Kubernetes control planes, then cleans up.\n--log-level (or ${LOG_LEVEL_ENV}): the hub's and agents' JSON logs on stderr (default: silent; the narration is on stdout).\nEnvironment: NATS_URL (optional), DATABASE_URL (optional; default embedded PGlite).`);
    return 0;
  }
  // The narration is the demo's output; the processes' logs only when asked for.
  const flagAt = argv.indexOf("--log-level");
  const logLevel = parseLogLevel(flagAt >= 0 ? argv[flagAt + 1] ?? "(none)" : process.env[LOG_LEVEL_ENV], "silent");
  const started = Date.now();
  const work = mkdtempSync(join(tmpdir(), "flotilla-demo-"));
  const planes = new Map<string, ControlPlane>();
  let nats: DemoNats | undefined;
  let fleet: LocalFleet | undefined;
  const cleanup = async () => {
    await fleet?.stop().catch(() => undefined);
    for (const p of planes.values()) await p.stop().catch(() => undefined);
    await nats?.stop();
    rmSync(work, { recursive: true, force: true });
  };
  const onSignal = () => void cleanup().then(() => process.exit(130));
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);

  try {
    say("Flotilla demo — the GitOps lab on two clusters\n");

    // 0. The parts: NATS, two control planes, the env repo, the hub and the agents.
    nats = await resolveNats(work);
    say(`  NATS          ${nats.url} (${nats.how})`);
    for (const name of CLUSTERS) {
      const t0 = Date.now();
      process.stdout.write(`  cluster       ${name}: starting etcd, kube-apiserver, controller-manager, scheduler, kwok… `);
      const plane = await startControlPlane({ name: `demo-${name}`, nodes: 1 });
      planes.set(name, plane);
      say(`ready in ${((Date.now() - t0) / 1000).toFixed(1)} s at ${plane.server}`);
    }
    const repoDir = join(work, "env-repo");
    cpSync(EXAMPLE, repoDir, { recursive: true });
    const files = { ...(await readFilesFrom(repoDir)), ...demoPromotionFiles(readFileSync(join(repoDir, "flotilla.yaml"), "utf8")) };
    rmSync(repoDir, { recursive: true, force: true });
    await createWorkRepo(repoDir, files, { message: "shop: inventory-api with 2 replicas; web on four tenant clusters" });
    // The hub reads a bare repository and pushes promotion commits to it; the demo's own commits
    // (a person's) go through a writer too.
    const bareDir = join(work, "env-repo.git");
    execFileSync("git", ["clone", "--bare", "--quiet", repoDir, bareDir]);
    const person = openEnvRepoWriter({ path: bareDir, author: { name: "Demo Person", email: "person@demo.invalid" } });
    const r1 = execFileSync("git", ["-C", bareDir, "rev-parse", "HEAD"], { encoding: "utf8" }).trim();
    say(`  env repo      ${bareDir} (from examples/env-repo, plus the app web)`);
    for (const t of TENANTS) {
      await kubeRequest(planes.get(t.plane)!.kubeConfig, { method: "POST", path: "/api/v1/namespaces", body: { apiVersion: "v1", kind: "Namespace", metadata: { name: t.namespace } } });
    }
    fleet = await startLocalFleet({
      repo: { path: bareDir },
      promotionTickMs: 250,
      clusters: [
        ...CLUSTERS.map((name) => ({ name, kubeconfig: planes.get(name)!.kubeConfig })),
        ...TENANTS.map((t) => ({ name: t.name, kubeconfig: planes.get(t.plane)!.kubeConfig, namespaces: [t.namespace] })),
      ],
      natsUrl: nats.url,
      natsPrefix: `demo${process.pid}`,
      ...(process.env.DATABASE_URL ? { databaseUrl: process.env.DATABASE_URL } : {}),
      stateDir: join(work, "agents"),
      pollIntervalMs: 2_000,
      heartbeatIntervalMs: 2_000,
      hubLoggerInstance: createProcessLogger({ component: "hub", level: logLevel }),
      agentLogger: (cluster) => createProcessLogger({ component: "agent", cluster, level: logLevel }),
      // The API needs a token for every call; the demo mints one per person, valid for this run.
      apiUsers: [
        { subject: "erin", roles: [Role.Promoter, Role.Operator], environments: ["*"] },
        { subject: "carol", roles: [Role.Promoter], environments: ["stage", "prod"], groups: ["sre"] },
        { subject: "vic", roles: [Role.Viewer] },
      ],
    });
    say(`  hub           ${fleet.hub.url} (database: ${fleet.hub.database.engine}${fleet.hub.database.engine === "pglite" ? ", embedded" : ""}; signing key ${fleet.signingKey.keyId})`);
    say(`  agents        ${CLUSTERS.join(", ")} (cluster-wide); ${TENANTS.map((t) => `${t.name} (tenant on ${t.plane})`).join(", ")}`);
    say(`  API tokens    erin (promoter, operator), carol (promoter in stage and prod, group sre), vic (viewer): minted for this run`);
    say(`                while it runs, try: curl -H "Authorization: Bearer ${fleet.tokens.get("vic")}" ${fleet.hub.url}/v1/fleet/matrix`);
    say(`                (for your own hub: flotilla token mint --file api-tokens.json --subject you --role admin; flotilla hub --api-tokens api-tokens.json …)\n`);

    const f = fleet;
    const deployment = async (name: string) => {
      const r = await kubeRequest<DeploymentLive>(planes.get(name)!.kubeConfig, { path: "/apis/apps/v1/namespaces/shop/deployments/inventory-api" });
      return r.status === 200 ? r.body : undefined;
    };
    const converge = async (revision: string, replicas: number) => {
      for (const name of CLUSTERS) {
        await waitFor(
          async () => {
            const c = await f.api<FleetRow>(`/v1/clusters/${name}`);
            const d = await deployment(name);
            if (c.observedRevision === revision && c.syncState === "Synced" && c.health === "Healthy" && d?.spec.replicas === replicas && d.status?.readyReplicas === replicas) return true;
            // Thrown, so a timeout says what was seen last.
            throw new Error(`${name} observed ${c.observedRevision?.slice(0, 7)} ${c.syncState} ${c.health}, ${d?.spec.replicas} replicas, ${d?.status?.readyReplicas ?? 0} ready`);
          },
          { what: `${name} to run ${replicas} ready replicas at ${revision.slice(0, 7)}`, timeoutMs: 120_000, intervalMs: 200 },
        );
      }
      return Promise.all(CLUSTERS.map(async (name) => `${name} ${(await deployment(name))!.status!.readyReplicas}/${replicas} ready`));
    };

    // 1. First sync.
    let t = Date.now();
    let state = await converge(r1, 2);
    step(1, `first sync: both clusters at R1 ${r1.slice(0, 7)} — ${state.join(", ")} (${Date.now() - t} ms)`);

    // 2. Drift: what `kubectl scale --replicas=5` does (scale subresource, field manager kubectl-scale).
    t = Date.now();
    await kubeRequest(planes.get("dev-1")!.kubeConfig, {
      method: "PATCH",
      path: "/apis/apps/v1/namespaces/shop/deployments/inventory-api/scale?fieldManager=kubectl-scale",
      contentType: "application/merge-patch+json",
      body: { spec: { replicas: 5 } },
    });
    step(2, `drift: scaled dev-1's inventory-api to 5 replicas out of band (field manager kubectl-scale)`);
    await waitFor(async () => (await deployment("dev-1"))?.spec.replicas === 2, { what: "the agent to restore 2 replicas", timeoutMs: 30_000, intervalMs: 50 });
    const restoredMs = Date.now() - t;
    const ledger = await waitFor(
      async () => {
        const rows = await f.api<{ paths: { path: string; desired: unknown; live: unknown }[]; actor: string; action: string; revision: string }[]>("/v1/drift?cluster=dev-1");
        return rows.length ? rows : undefined;
      },
      { what: "the drift ledger row", timeoutMs: 30_000 },
    );
    const row = ledger[0]!;
    const p = row.paths.find((x) => x.path === "/spec/replicas") ?? row.paths[0]!;
    say(`     → ${row.action} in ${restoredMs} ms; drift ledger: ${p.path} desired ${JSON.stringify(p.desired)}, live ${JSON.stringify(p.live)}, by ${row.actor}, at R1 ${row.revision.slice(0, 7)}`);

    // 3. A commit changes the desired state to 3 replicas.
    t = Date.now();
    const text = readFileSync(join(repoDir, DEPLOYMENT_FILE), "utf8");
    const r2 = await person.commit({ [DEPLOYMENT_FILE]: text.replace(/replicas: 2/, "replicas: 3") }, "inventory-api: 3 replicas");
    await f.refresh();
    state = await converge(r2, 3);
    step(3, `commit R2 ${r2.slice(0, 7)} "inventory-api: 3 replicas" → converged: ${state.join(", ")} (${Date.now() - t} ms)`);

    // 4. Rollback is a git revert.
    t = Date.now();
    const r3 = await person.revert(r2);
    await f.refresh();
    state = await converge(r3, 2);
    step(4, `git revert R2 → R3 ${r3.slice(0, 7)} → back to 2: ${state.join(", ")} (${Date.now() - t} ms)`);

    // 5. The fleet as the API sees it.
    step(5, `the fleet API (GET ${f.hub.url}/v1/clusters):`);
    printFleet(await f.api<FleetRow[]>("/v1/clusters"), { R1: r1, R2: r2, R3: r3 });

    // 6–9. Promotion: web dev → stage → prod, a canary halt, a rollback.
    await runPromotionAct({ fleet: f, bareDir, kube: (plane) => planes.get(plane)!.kubeConfig, firstStep: 6 });
    writeFileSync(join(work, "done"), "");
    await cleanup();
    say(`\nDone in ${((Date.now() - started) / 1000).toFixed(1)} s; control planes, agents, hub and temp files cleaned up.`);
    return 0;
  } catch (err) {
    console.error(`\nflotilla demo failed: ${(err as Error).message}`);
    await cleanup();
    return 1;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}
