// Issue 8, "killing the hub between push and publish": a real SIGKILL, not a writer that throws.
// The hub is `flotilla hub` in a child process on real Postgres (its own database), NATS (its own
// prefix) and the testkit Git HTTP server. The Git server calls back the instant git-http-backend
// has finished the hub's push of the wave commit (refs updated) and before the response's end is
// sent, and the test kills the hub right there. A second hub on the same database, NATS and repo
// must find the pushed commit by its trailers: one wave commit, one new pointer per cluster.
import { spawn, execFileSync, type ChildProcess } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Kvm, type KV } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { PromotionTrailer } from "@flotilla/model";
import { mintApiToken, Role } from "@flotilla/hub";
import { callHub, startPromotionFixture, startStandInAgents, type HeldPointer, type PromotionFixture, type StandInAgents } from "@flotilla/hub/testing";
import { createTestDatabase, createTestNats, waitFor } from "@flotilla/testkit";
import { decodeJson, desiredKey, privateKeyPem, wireNames, type WireNames } from "@flotilla/wire";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const MAIN = join(ROOT, "services/cli/src/main.ts");
const TSX = import.meta.resolve("tsx");
const DIGEST = `sha256:${"7".repeat(64)}`;
const CLUSTERS = ["dev-1", "dev-2", "dev-3"];
const WAVE1 = ["dev-1", "dev-2"];
const FLEET = `apiVersion: flotilla.dev/v1alpha1
environments:
  - name: dev
    promotion:
      autoPromote: true
      rollout:
        minHealthy: 300ms
        progressDeadline: 120s
        unknownAfter: 60s
        waves:
          - { name: first, clusters: [dev-1, dev-2], failureBudget: 0 }
          - { name: rest, percent: 100, failureBudget: 0 }
clusters:
  - { name: dev-1, environment: dev }
  - { name: dev-2, environment: dev }
  - { name: dev-3, environment: dev }
apps:
  - { name: shop, path: apps/shop }
`;
interface RunningHub {
  child: ChildProcess;
  url: string;
  exited: Promise<NodeJS.Signals | number | null>;
  output(): string;
}

const admin = mintApiToken({ subject: "root", roles: [Role.Admin] });

let fixture: PromotionFixture;
let names: WireNames;
let nc: NatsConnection;
let kv: KV;
let keyPath: string;
/** Set when the next push of the hub is to be answered by a SIGKILL. */
let killOnPush: ChildProcess | undefined;
let killedAfterPush = false;
const hubs: RunningHub[] = [];
let agents: StandInAgents | undefined;

function startHubProcess(): Promise<RunningHub> {
  const child = spawn(
    process.execPath,
    ["--conditions=@flotilla/source", "--import", TSX, MAIN, "hub",
      "--repo", fixture.git.url, "--repo-token", fixture.git.token, "--database-url", fixture.db.url, "--nats-url", fixture.nats.url, "--nats-prefix", fixture.nats.prefix,
      "--signing-key", keyPath, "--listen", "127.0.0.1:0", "--poll-interval", "3600"],
    { cwd: ROOT, env: { PATH: process.env.PATH, HOME: fixture.dir, FLOTILLA_API_TOKENS: JSON.stringify({ tokens: [admin.entry] }) }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<NodeJS.Signals | number | null>((resolve) => child.once("exit", (code, signal) => resolve(signal ?? code)));
  const hub: RunningHub = { child, url: "", exited, output: () => out };
  hubs.push(hub);
  return waitFor(
    () => {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the hub exited: ${out}`);
      const line = out.split("\n").find((l) => l.includes('"hub serving"'));
      const url = line ? /"url":"(http[^"]+)"/.exec(line)?.[1] : undefined;
      return url ? Object.assign(hub, { url }) : undefined;
    },
    { what: "the hub serving", timeoutMs: 90_000, intervalMs: 200 },
  );
}

const api = <T>(hub: RunningHub, method: string, path: string, body?: unknown) => callHub<T>(hub.url, admin.token, method, path, body);

const decodePointer = (bytes: Uint8Array): HeldPointer => decodeJson(bytes) as HeldPointer;

async function pointer(cluster: string): Promise<HeldPointer | undefined> {
  const e = await kv.get(desiredKey(cluster));
  return e && e.operation === "PUT" ? decodePointer(e.value) : undefined;
}

/** Every pointer the bucket still holds for the cluster, oldest first. */
async function pointerHistory(cluster: string): Promise<HeldPointer[]> {
  const out: HeldPointer[] = [];
  for await (const e of await kv.history({ key: desiredKey(cluster) })) if (e.operation === "PUT") out.push(decodePointer(e.value));
  return out;
}

/** The branch's commits, newest first, with the promotion trailers (read in the bare repository). */
function history(): { oid: string; promotion: string; wave: string }[] {
  const log = execFileSync("git", ["-C", fixture.git.bareDir, "log", "main", `--format=%H%x00%(trailers:key=${PromotionTrailer.Promotion},valueonly,separator=)%x00%(trailers:key=${PromotionTrailer.Wave},valueonly,separator=)%x1e`], { encoding: "utf8" });
  return log.split("\x1e").map((r) => r.trim()).filter(Boolean).map((r) => {
    const [oid, promotion, wave] = r.split("\x00").map((s) => s.trim());
    return { oid: oid!, promotion: promotion!, wave: wave! };
  });
}

beforeAll(async () => {
  fixture = await startPromotionFixture({
    db: await createTestDatabase("promokill"),
    nats: createTestNats("promokill"),
    fleet: FLEET,
    onServed: ({ method, path }) => {
      if (!killOnPush || method !== "POST" || !path.endsWith("/git-receive-pack")) return;
      // At once, in the same turn: the refs are updated, the hub has not seen the push's end.
      killedAfterPush = killOnPush.kill("SIGKILL");
      killOnPush = undefined;
    },
  });
  names = wireNames(fixture.nats.prefix);
  keyPath = join(fixture.dir, "signing.pem");
  await writeFile(keyPath, privateKeyPem(fixture.signingKey), { mode: 0o600 });
  nc = await connect({ servers: fixture.nats.url });
}, 60_000);

afterAll(async () => {
  await agents?.stop();
  for (const h of hubs) {
    if (h.child.exitCode === null && h.child.signalCode === null) h.child.kill("SIGTERM");
    await h.exited;
  }
  await nc?.close();
  await fixture?.close();
}, 60_000);

describe("a hub process killed between pushing a wave commit and publishing its pointers", () => {
  it("leaves one wave commit and one new pointer per cluster; a second hub carries the promotion on", async ({ annotate }) => {
    const first = await startHubProcess();
    // The bucket exists once the first hub has published; wait for every cluster's pointer.
    kv = await waitFor(async () => {
      const bucket = await new Kvm(nc).open(names.desiredBucket, { allow_direct: true });
      for (const c of CLUSTERS) if (!(await bucket.get(desiredKey(c)))) return undefined;
      return bucket;
    }, { what: "a pointer for every cluster", timeoutMs: 60_000 });
    // The clusters' agents, stood in for: Healthy on whatever pointer each cluster holds.
    agents = startStandInAgents({ clusters: CLUSTERS, readPointer: pointer, wire: () => ({ nc, names }) });
    const before = new Map<string, HeldPointer[]>();
    for (const c of CLUSTERS) before.set(c, await pointerHistory(c));
    const headBefore = history()[0]!.oid;

    killOnPush = first.child;
    const created = await api<{ promotions: { id: string; environment: string }[] }>(first, "POST", "/v1/releases", { app: "shop", sourceRevision: "r1", images: [{ name: "ghcr.io/acme/shop", digest: DIGEST }] });
    expect(created.status).toBe(201);
    const id = created.body.promotions.find((p) => p.environment === "dev")!.id;
    expect(await first.exited).toBe("SIGKILL");
    expect(killedAfterPush).toBe(true);

    // The push reached the repo before the kill.
    const pushed = history().filter((c) => c.promotion === id);
    expect(pushed.map((c) => c.wave)).toEqual(["1/2"]);
    const wave1 = pushed[0]!.oid;
    // Which case happened: the kill beat the publish (the one meant), or the hub had published.
    const publishedBeforeKill = (await Promise.all(WAVE1.map(pointer))).some((p) => p!.revision === wave1);
    const kase = publishedBeforeKill ? "the first hub had published wave 1 before the kill" : "killed after the push, before any publish";
    console.log(`promotion-kill: ${kase}`);
    await annotate(kase);

    const second = await startHubProcess();
    const done = await waitFor(async () => {
      const p = (await api<{ promotion: { state: string } }>(second, "GET", `/v1/promotions/${id}`)).body.promotion;
      return ["Succeeded", "SucceededWithExceptions", "Halted", "Failed", "TimedOut"].includes(p.state) ? p : undefined;
    }, { what: "the promotion finishing on the second hub", timeoutMs: 120_000, intervalMs: 250 });
    expect(done.state).toBe("Succeeded");

    // Exactly one commit per wave, the pushed one first.
    const commits = history().filter((c) => c.promotion === id).reverse();
    expect(commits.map((c) => c.wave)).toEqual(["1/2", "2/2"]);
    expect(commits[0]!.oid).toBe(wave1);
    expect(history().map((c) => c.oid)).toContain(headBefore);
    // Exactly one new pointer generation per cluster: wave 1's at the wave-1 commit, dev-3 at wave 2's.
    for (const c of CLUSTERS) {
      const old = before.get(c)!;
      const all = await pointerHistory(c);
      const added = all.filter((p) => p.generation > old.at(-1)!.generation);
      expect(added, c).toHaveLength(1);
      expect(added[0]!.revision, c).toBe(WAVE1.includes(c) ? wave1 : commits[1]!.oid);
    }
  }, 300_000);
});
