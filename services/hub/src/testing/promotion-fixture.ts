// What every promotion test stands on, each its own: the env repo (a fleet file and the shop app)
// on a Git HTTP server the hub pushes wave commits to, a fresh Postgres database, a fresh NATS
// prefix and a signing key; and agents stood in for by a reporter that reads each cluster's signed
// pointer and reports on it over JetStream, as the agent does (the agent itself is tested on a real
// kube-apiserver elsewhere). The database and the prefix come in structurally (testkit's
// createTestDatabase and createTestNats fit): the hub's package does not depend on the testkit.
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstream } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import type { HeartbeatReport, StatusReport } from "@flotilla/model";
import { createWorkRepo, pushWorkRepo, startGitHttpServer, type GitHttpServer, type GitHttpServerOptions } from "@flotilla/envrepo/testing";
import { encodeJson, generateSigningKey, reportSubject, type SigningKey, type WireNames } from "@flotilla/wire";
import type { ApiTokenEntry } from "../api/index.js";
import type { HubConfig } from "../hub.js";
import { parseTrailers } from "../promotion/trailers.js";

/** The app every promotion test promotes: its base pins a tag, which a release replaces. */
export const SHOP_DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata: { name: shop, namespace: shop }
spec:
  template:
    spec:
      containers:
        - { name: shop, image: "ghcr.io/acme/shop:1.0" }
`;

/** A fresh database of its own (createTestDatabase); the fixture drops it. */
export interface FixtureDatabase {
  url: string;
  drop(): Promise<void>;
}

/** A NATS prefix of its own (createTestNats); the fixture deletes its streams. */
export interface FixtureNats {
  url: string;
  prefix: string;
  cleanup(): Promise<void>;
}

export interface PromotionFixtureOptions {
  db: FixtureDatabase;
  nats: FixtureNats;
  /** The fleet file, committed as flotilla.yaml next to apps/shop. */
  fleet: string;
  /** Told of each request the Git server has served (a test that kills the hub right after its push). */
  onServed?: GitHttpServerOptions["onServed"];
}

export interface PromotionFixture {
  /** A temporary directory for work trees, keys and a child's HOME; close() removes it. */
  dir: string;
  /** The env repo over HTTP (the hub's remote) and the bare repository behind it. */
  git: { url: string; token: string; bareDir: string };
  db: FixtureDatabase;
  nats: FixtureNats;
  signingKey: SigningKey;
  /** startHub's config for one hub on this fixture; the hubId names its work trees, so a restarted hub reuses them. */
  hubConfig(tokens: ApiTokenEntry[], over?: Partial<HubConfig>): HubConfig;
  /** The branch's commits, newest first, with their promotion trailers, as the remote holds them. */
  history(): PromotionCommit[];
  /** Drops the database, the prefix's streams, the Git server and the directory: stop hubs and reporters first. */
  close(): Promise<void>;
}

export interface PromotionCommit {
  oid: string;
  message: string;
  author: string;
  trailers: ReturnType<typeof parseTrailers>;
}

const GIT_TOKEN = "promotion-fixture-git-token";

export async function startPromotionFixture({ db, nats, fleet, onServed }: PromotionFixtureOptions): Promise<PromotionFixture> {
  let dir: string | undefined;
  let server: GitHttpServer | undefined;
  const close = async () => {
    await nats.cleanup();
    await db.drop();
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  };
  try {
    dir = await mkdtemp(join(tmpdir(), `${nats.prefix}-`));
    server = await startGitHttpServer({ token: GIT_TOKEN, ...(onServed ? { onServed } : {}) });
    const url = server.createBareRepo("fleet");
    const work = join(dir, "work");
    await createWorkRepo(work, { "flotilla.yaml": fleet, "apps/shop/deployment.yaml": SHOP_DEPLOYMENT });
    await pushWorkRepo(work, url, { token: GIT_TOKEN });
    return fixtureOn({ dir, url, bareDir: join(server.root, "fleet.git"), db, nats, close });
  } catch (e) {
    // Whatever was made goes again: the test's afterAll has no fixture to close.
    await close();
    throw e;
  }
}

function fixtureOn({ dir, url, bareDir, db, nats, close }: { dir: string; url: string; bareDir: string; db: FixtureDatabase; nats: FixtureNats; close(): Promise<void> }): PromotionFixture {
  const signingKey = generateSigningKey();
  return {
    dir,
    git: { url, token: GIT_TOKEN, bareDir },
    db,
    nats,
    signingKey,
    hubConfig: (tokens, over = {}) => {
      const hubId = over.hubId ?? "hub";
      return {
        auth: { tokens },
        repo: { url, token: GIT_TOKEN, workDir: join(dir, `${hubId}-reader`) },
        promotionWriter: { url, token: GIT_TOKEN, workDir: join(dir, `${hubId}-writer`) },
        databaseUrl: db.url,
        natsUrl: nats.url,
        natsPrefix: nats.prefix,
        signingKey,
        port: 0,
        pollIntervalMs: 60_000,
        promotionTickMs: 100,
        ...over,
      };
    },
    history: () => {
      const log = execFileSync("git", ["-C", bareDir, "log", "main", "--format=%H%x00%an%x00%B%x1e"], { encoding: "utf8" });
      return log.split("\x1e").map((r) => r.replace(/^\n/, "")).filter(Boolean).map((r) => {
        const [oid, author, message] = r.split("\x00") as [string, string, string];
        return { oid, author, message, trailers: parseTrailers(message) };
      });
    },
    close,
  };
}

/** What a stand-in agent reports each round. stale: Healthy, but on the first pointer it saw. */
export type StandInBehaviour = "healthy" | "degraded" | "silent" | "stale";

export interface HeldPointer {
  generation: number;
  revision: string;
  bundleDigest: string;
}

export interface StandInAgentsOptions {
  clusters: readonly string[];
  /** The pointer a cluster holds now: the hub's publisher, or the KV bucket. */
  readPointer(cluster: string): Promise<HeldPointer | undefined>;
  /** Where reports go, asked each round: a test that restarts its hub hands over the new one's. */
  wire(): { nc: NatsConnection; names: WireNames };
  /** Default: every cluster healthy. */
  behaviour?(cluster: string): StandInBehaviour;
  intervalMs?: number;
}

export interface StandInAgents {
  /** The first pointer a cluster reported on (what a stale agent keeps reporting on). */
  firstPointer(cluster: string): HeldPointer | undefined;
  stop(): Promise<void>;
}

/** Every intervalMs (default 150), each cluster reports status and a heartbeat on its pointer, as its behaviour says. */
export function startStandInAgents({ clusters, readPointer, wire, behaviour = () => "healthy", intervalMs = 150 }: StandInAgentsOptions): StandInAgents {
  const first = new Map<string, HeldPointer>();
  let reporting = true;
  const round = async () => {
    const { nc, names } = wire();
    const js = jetstream(nc);
    for (const cluster of clusters) {
      const b = behaviour(cluster);
      if (b === "silent") continue;
      const held = await readPointer(cluster);
      if (!held) continue;
      if (!first.has(cluster)) first.set(cluster, held);
      const p = b === "stale" ? first.get(cluster)! : held;
      const base = { cluster, agent: `${cluster}/stand-in/1`, at: new Date().toISOString(), generation: p.generation };
      const status: StatusReport = { ...base, id: randomUUID(), kind: "status", revision: p.revision, bundleDigest: p.bundleDigest, observedRevision: p.revision, syncState: "Synced", health: b === "degraded" ? "Degraded" : "Healthy", apps: [] };
      const heartbeat: HeartbeatReport = { ...base, id: randomUUID(), kind: "heartbeat", deadlineSeconds: 30 };
      await js.publish(reportSubject(names, cluster, "status"), encodeJson(status), { msgID: status.id });
      await js.publish(reportSubject(names, cluster, "heartbeat"), encodeJson(heartbeat), { msgID: heartbeat.id });
    }
  };
  const loop = (async () => {
    while (reporting) {
      // A failed round (a hub restarting, a stream not there yet) is tried again on the next.
      await round().catch(() => undefined);
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  return {
    firstPointer: (cluster) => first.get(cluster),
    async stop() {
      reporting = false;
      await loop;
    },
  };
}

/** One call to the fleet API with a bearer token (none: anonymous); the body is parsed as JSON. */
export async function callHub<T>(baseUrl: string, token: string | undefined, method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const headers = { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { "content-type": "application/json" } : {}) };
  const res = await fetch(baseUrl + path, { method, headers, ...(body !== undefined ? { body: JSON.stringify(body) } : {}) });
  return { status: res.status, body: (await res.json()) as T };
}
