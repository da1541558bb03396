// The demo's promotion act: the app "web" on four tenant clusters (one namespace each, on the
// demo's two control planes) goes dev → stage → prod as promotion commits; release 2's canary
// cannot start its new pod (its namespace gets a pod quota of 1), goes Degraded and halts the
// promotion after one wave; a rollback (the revert of that wave's lock file) brings release 1 back.
import { execFileSync } from "node:child_process";
import type { KubeConfig } from "@kubernetes/client-node";
import { kubeRequest, waitFor } from "@flotilla/testkit";
import type { LocalFleet } from "../local-fleet.js";
import { say, step } from "./demo-print.js";

export const TENANTS = [
  { name: "dev-2", environment: "dev", plane: "dev-1", namespace: "web-dev-2" },
  { name: "stage-1", environment: "stage", plane: "dev-1", namespace: "web-stage-1" },
  { name: "prod-2", environment: "prod", plane: "prod-1", namespace: "web-prod-2" },
  { name: "prod-3", environment: "prod", plane: "prod-1", namespace: "web-prod-3" },
] as const;

const ROLLOUT = "minHealthy: 2s, progressDeadline: 2m, unknownAfter: 1m";
const IMAGE = "ghcr.io/acme/web";
const D1 = `sha256:${"1".repeat(64)}`;
const D2 = `sha256:${"2".repeat(64)}`;

/** The demo's fleet file (the example's clusters and shop, plus stage, the pipeline and web) and web's manifest. */
export function demoPromotionFiles(exampleFleet: string): Record<string, string> {
  void exampleFleet; // the example has dev-1, prod-1 and shop; the demo's file keeps them as they are
  const fleet = `# The demo's fleet file: examples/env-repo's clusters and app shop, plus a stage environment,
# a promotion pipeline, and the app web on four tenant clusters (docs/promotion.md).
apiVersion: flotilla.dev/v1alpha1
environments:
  - name: dev
    drift: enforce
    promotion: { autoPromote: true, rollout: { ${ROLLOUT} } }
  - name: stage
    promotion: { from: [dev], autoPromote: true, soak: 3s, rollout: { ${ROLLOUT} } }
  - name: prod
    drift: enforce
    prune: true
    promotion:
      from: [stage]
      digestOnly: true
      approvals: { count: 1 }
      rollout:
        ${ROLLOUT.split(", ").join("\n        ")}
        waves:
          - { name: canary, clusters: [prod-2], failureBudget: 0 }
          - { name: rest, percent: 100, failureBudget: 0 }
clusters:
  - { name: dev-1, environment: dev, labels: { region: local } }
  - { name: prod-1, environment: prod, labels: { region: local } }
${TENANTS.map((t) => `  - { name: ${t.name}, environment: ${t.environment}, namespaces: [${t.namespace}] }`).join("\n")}
apps:
  - { name: shop, path: apps/shop, selector: { clusters: [dev-1, prod-1] } }
  - { name: web, path: apps/web, selector: { clusters: [${TENANTS.map((t) => t.name).join(", ")}] } }
`;
  const web = `# No namespace: each tenant agent places it in its own namespace.
apiVersion: apps/v1
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
      containers: [{ name: web, image: "${IMAGE}:1.0" }]
`;
  return { "flotilla.yaml": fleet, "apps/web/deployment.yaml": web };
}

interface View {
  id: string;
  environment: string;
  state: string;
  reason: string | null;
  releaseId: string;
  gates: { gate: string; verdict: string; message: string; until?: string }[];
  commits: { wave: number; revision: string }[];
  waves: { name: string; clusters: { cluster: string; outcome: string; generation: number | null }[] }[];
}

export interface PromotionActOptions {
  fleet: LocalFleet;
  bareDir: string;
  kube(plane: string): KubeConfig;
  firstStep: number;
}

export async function runPromotionAct(o: PromotionActOptions): Promise<void> {
  const { fleet } = o;
  let n = o.firstStep;
  // erin requests, carol (an SRE) approves: each call carries its person's token.
  const post = <T>(path: string, body: unknown, as = "erin") => fleet.api<T>(path, { method: "POST", body, as });
  const get = async (id: string) => (await fleet.api<{ promotion: View }>(`/v1/promotions/${id}`)).promotion;
  const until = (id: string, states: string[], what: string) =>
    waitFor(
      async () => {
        const p = await get(id);
        if (states.includes(p.state)) return p;
        throw new Error(`${p.environment} ${p.state} ${p.reason ?? ""}`);
      },
      { what, timeoutMs: 180_000, intervalMs: 200 },
    );
  const inEnv = (release: string, env: string) =>
    waitFor(async () => (await fleet.api<{ promotions: View[] }>(`/v1/releases/${release}`)).promotions.find((p) => p.environment === env), { what: `${release} in ${env}`, timeoutMs: 120_000 });
  const tenant = (name: string) => TENANTS.find((t) => t.name === name)!;
  const image = async (cluster: string) => {
    const t = tenant(cluster);
    const r = await kubeRequest<{ spec: { template: { spec: { containers: { image: string }[] } } } }>(o.kube(t.plane), { path: `/apis/apps/v1/namespaces/${t.namespace}/deployments/web` });
    const ref = r.status === 200 ? r.body.spec.template.spec.containers[0]!.image : "-";
    return ref.replace(D1, "sha256:1111…").replace(D2, "sha256:2222…");
  };
  const clusters = async (p: View) => {
    for (const [i, w] of p.waves.entries()) {
      for (const c of w.clusters) say(`       wave ${i + 1} ${w.name.padEnd(7)} ${c.cluster.padEnd(8)} ${c.outcome.padEnd(10)} gen ${String(c.generation ?? "-").padEnd(3)} runs ${await image(c.cluster)}`);
    }
  };
  const release = async (rev: string, digest: string) =>
    (await post<{ release: { id: string } }>("/v1/releases", { app: "web", sourceRevision: rev, images: [{ name: IMAGE, digest }] })).release.id;

  for (const t of TENANTS) {
    await waitFor(async () => (await fleet.api<{ health: string }>(`/v1/clusters/${t.name}`)).health === "Healthy", { what: `${t.name} healthy on web:1.0`, timeoutMs: 120_000 });
  }

  // Release 1 through the pipeline.
  let t0 = Date.now();
  const rel1 = await release("web-build-1", D1);
  step(n++, `promotion: CI records release ${rel1} (${IMAGE}@sha256:1111…); dev auto-promotes`);
  const dev = await until((await inEnv(rel1, "dev")).id, ["Succeeded"], "dev");
  say(`     dev    ${dev.id} ${dev.state} (${Date.now() - t0} ms)`);
  const stagePending = await inEnv(rel1, "stage");
  const soak = await waitFor(async () => (await get(stagePending.id)).gates.find((g) => g.gate === "soak") ?? (await get(stagePending.id)).state !== "Pending", { what: "stage gates" });
  if (typeof soak === "object") say(`     stage  ${stagePending.id} gate ${soak.gate}: ${soak.verdict}${soak.until ? ` until ${soak.until}` : ""} (${soak.message})`);
  const stage = await until(stagePending.id, ["Succeeded"], "stage");
  say(`     stage  ${stage.id} ${stage.state} (${Date.now() - t0} ms)`);
  const prodReq = (await post<{ promotion: View }>("/v1/promotions", { release: rel1, environment: "prod" })).promotion;
  const gate = await waitFor(async () => (await get(prodReq.id)).gates.find((g) => g.gate === "approval"), { what: "prod's approval gate" });
  say(`     prod   ${prodReq.id} Pending: gate approval ${gate.verdict} (${gate.message}); carol approves`);
  await post(`/v1/promotions/${prodReq.id}/approve`, { comment: "demo" }, "carol");
  const prod1 = await until(prodReq.id, ["Succeeded"], "prod");
  say(`     prod   ${prod1.id} ${prod1.state} in ${prod1.waves.length} waves (${Date.now() - t0} ms since the release):`);
  await clusters(prod1);

  // Release 2: the canary cannot start its new pod.
  t0 = Date.now();
  const canary = tenant("prod-2");
  await kubeRequest(o.kube(canary.plane), {
    method: "POST",
    path: `/api/v1/namespaces/${canary.namespace}/resourcequotas`,
    body: { apiVersion: "v1", kind: "ResourceQuota", metadata: { name: "one-pod" }, spec: { hard: { pods: "1" } } },
  });
  await waitFor(async () => {
    const q = await kubeRequest<{ status?: { used?: { pods?: string } } }>(o.kube(canary.plane), { path: `/api/v1/namespaces/${canary.namespace}/resourcequotas/one-pod` });
    return q.body.status?.used?.pods === "1";
  }, { what: "the quota controller", timeoutMs: 60_000 });
  const rel2 = await release("web-build-2", D2);
  step(n++, `release ${rel2} (sha256:2222…); prod-2's namespace now allows one pod, so the new version cannot surge there`);
  await until((await inEnv(rel2, "stage")).id, ["Succeeded"], "release 2 in stage");
  const prod2Req = (await post<{ promotion: View }>("/v1/promotions", { release: rel2, environment: "prod" })).promotion;
  await post(`/v1/promotions/${prod2Req.id}/approve`, { comment: "demo" }, "carol");
  const halted = await until(prod2Req.id, ["Halted"], "the canary halt");
  say(`     prod   ${halted.id} Halted after ${halted.commits.length} wave commit (${Date.now() - t0} ms): ${halted.reason}`);
  await clusters(halted);

  // Rollback.
  t0 = Date.now();
  const rb = (await post<{ promotion: View }>(`/v1/promotions/${halted.id}/rollback`, { reason: "canary Degraded" })).promotion;
  const rolled = await until(rb.id, ["Succeeded"], "the rollback");
  step(n++, `rollback ${rolled.id}: one revert commit, back to ${rolled.releaseId} at higher generations (${Date.now() - t0} ms):`);
  await clusters(rolled);

  // The commits, as `git log` shows them.
  step(n++, "the promotion commits in the env repo (git log, newest first):");
  const log = execFileSync("git", ["-C", o.bareDir, "log", "--format=%h %an: %s%n%(trailers:key=Flotilla-Wave,key=Flotilla-Approved-By,key=Flotilla-Rollback-Of,separator=%x2C )", "-n", "12"], { encoding: "utf8" });
  for (const line of log.split("\n").filter(Boolean)) say(`     ${line}`);
}
