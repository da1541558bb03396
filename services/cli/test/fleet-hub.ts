// A real hub for the fleet-client tests: the example env repo in a Git work repo, embedded PGlite,
// real NATS, tokens minted for a viewer, an operator, a promoter and an admin, and the `flotilla`
// command run as a child process against it. Reports are published on NATS as an agent would.
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { DriftReport, HeartbeatReport, Report, StatusReport } from "@flotilla/model";
import { createWorkRepo, readFilesFrom } from "@flotilla/envrepo/testing";
import { mintApiToken, Role, startHub, type ClusterSummaryBody, type Hub } from "@flotilla/hub";
import { createTestNats, waitFor, type TestNats } from "@flotilla/testkit";
import { encodeJson, generateSigningKey, reportSubject } from "@flotilla/wire";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const MAIN = join(ROOT, "services/cli/src/main.ts");
const TSX = import.meta.resolve("tsx");
const EXAMPLE = join(ROOT, "examples/env-repo");

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs `flotilla ARGS` with only PATH, HOME and `env` in its environment. */
export function flotilla(args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["--conditions=@flotilla/source", "--import", TSX, MAIN, ...args], { cwd: ROOT, env: { PATH: process.env.PATH, ...env } }, (err, stdout, stderr) => {
      const status = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 1) : 0;
      resolve({ status, stdout, stderr });
    });
  });
}

export const people = {
  viewer: mintApiToken({ subject: "vic", roles: [Role.Viewer] }),
  operator: mintApiToken({ subject: "otto", roles: [Role.Operator] }),
  promoter: mintApiToken({ subject: "pam", roles: [Role.Promoter], environments: ["*"], groups: ["sre"] }),
  approver: mintApiToken({ subject: "carol", roles: [Role.Promoter], environments: ["*"], groups: ["sre"] }),
  admin: mintApiToken({ subject: "root", roles: [Role.Admin] }),
};
export type Person = keyof typeof people;

export interface FleetHub {
  hub: Hub;
  home: string;
  /** The env repo's work directory (commit with commitFiles, then refresh). */
  repoDir: string;
  /** Environment for the CLI: hub URL and the person's token, HOME in a scratch directory. */
  env(as: Person, extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  /** GET as admin, straight from the API. */
  api<T>(path: string): Promise<{ status: number; body: T; headers: Headers }>;
  /** Any call as anyone, straight from the API. */
  call<T>(method: string, path: string, as: Person, body?: unknown): Promise<{ status: number; body: T; headers: Headers }>;
  publish(report: Report): void;
  stop(): Promise<void>;
}

export async function startFleetHub(label: string): Promise<FleetHub> {
  const nats: TestNats = createTestNats(label);
  const dir = await mkdtemp(join(tmpdir(), `cli-${label}-`));
  const home = await mkdtemp(join(tmpdir(), `cli-${label}-home-`));
  await createWorkRepo(dir, await readFilesFrom(EXAMPLE));
  const hub = await startHub({
    auth: { tokens: Object.values(people).map((p) => p.entry) },
    repo: { path: dir },
    natsUrl: nats.url,
    natsPrefix: nats.prefix,
    signingKey: generateSigningKey(),
    port: 0,
    pollIntervalMs: 3_600_000,
    promotionTickMs: 200,
  });
  const call = async <T>(method: string, path: string, as: Person, body?: unknown) => {
    const res = await fetch(hub.url + path, {
      method,
      headers: { authorization: `Bearer ${people[as].token}`, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    return { status: res.status, body: (await res.json()) as T, headers: res.headers };
  };
  const api = <T>(path: string) => call<T>("GET", path, "admin");
  // The hub resolves at start; wait for every cluster's first pointer.
  await waitFor(async () => (await api<ClusterSummaryBody[]>("/v1/clusters")).body.every((c) => c.desired !== null) || undefined, { what: "first desired pointers" });
  return {
    hub,
    home,
    repoDir: dir,
    env: (as, extra = {}) => ({ HOME: home, FLOTILLA_HUB_URL: hub.url, FLOTILLA_TOKEN: people[as].token, ...extra }),
    api,
    call,
    publish: (r) => hub.nc.publish(reportSubject(hub.names, r.cluster, r.kind), encodeJson(r)),
    async stop() {
      await hub.stop();
      await nats.cleanup();
      await rm(dir, { recursive: true, force: true });
      await rm(home, { recursive: true, force: true });
    },
  };
}

export const ago = (seconds: number): string => new Date(Date.now() - seconds * 1000).toISOString();
const header = (cluster: string, at: string) => ({ id: randomUUID(), cluster, agent: `${cluster}/agent-0/1`, at });

export function statusReport(cluster: string, pointer: { generation: number; revision: string; bundleDigest: string }, at: string, over: Partial<StatusReport> = {}): StatusReport {
  return {
    ...header(cluster, at),
    kind: "status",
    ...pointer,
    observedRevision: pointer.revision,
    syncState: "Synced",
    health: "Healthy",
    apps: [
      {
        name: "shop",
        health: "Healthy",
        objects: [
          {
            ref: { group: "apps", kind: "Deployment", namespace: "shop", name: "inventory-api" },
            action: "configured",
            reason: "Applied",
            health: "Healthy",
            healthReason: "Current",
            images: [`ghcr.io/acme/shop@sha256:${"c".repeat(64)}`],
          },
        ],
      },
    ],
    ...over,
  };
}

export function heartbeatReport(cluster: string, generation: number, at: string, deadlineSeconds: number): HeartbeatReport {
  return { ...header(cluster, at), kind: "heartbeat", generation, deadlineSeconds };
}

export function driftReport(cluster: string, pointer: { generation: number; revision: string }, at: string, over: Partial<DriftReport> = {}): DriftReport {
  return {
    ...header(cluster, at),
    kind: "drift",
    generation: pointer.generation,
    revision: pointer.revision,
    app: "shop",
    object: { group: "apps", kind: "Deployment", namespace: "shop", name: "inventory-api" },
    paths: [{ path: "/spec/replicas", desired: 2, live: 5 }],
    actor: "kubectl-scale",
    changedAt: at,
    policy: "warn",
    action: "left",
    ...over,
  };
}
