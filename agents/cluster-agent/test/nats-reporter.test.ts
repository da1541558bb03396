import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { DriftAction, DriftPolicy, Health, SyncState } from "@flotilla/model";
import { createTestNats, type TestNats } from "@flotilla/testkit";
import { reportSubject, wireNames, type WireNames } from "@flotilla/wire";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { NatsReporter, connectAgentNats, startHeartbeats, type NatsReporterOptions } from "../src/index.js";
import type { DriftBody, HeartbeatBody, Reporter, StatusBody } from "../src/ports.js";
import { ensureWireResources, privateNats, readReports, waitFor, type PrivateNats } from "./nats-helpers.js";

const CLUSTER = "edge-1";
const AGENT = "edge-1/agent-0/1";
const FAST = { initialMs: 50, maxMs: 400 };

const status = (generation: number): StatusBody => ({
  generation,
  revision: "a".repeat(40),
  bundleDigest: `sha256:${"0".repeat(64)}`,
  syncState: SyncState.Synced,
  health: Health.Healthy,
  apps: [],
});

const drift = (generation: number): DriftBody => ({
  generation,
  revision: "a".repeat(40),
  app: "web",
  object: { group: "apps", kind: "Deployment", namespace: "web", name: "web" },
  paths: [{ path: "/spec/replicas", desired: 2, live: 5 }],
  actor: "kubectl-edit",
  policy: DriftPolicy.Enforce,
  action: DriftAction.Reverted,
});

describe("NatsReporter on the shared NATS", () => {
  let tn: TestNats;
  let names: WireNames;
  let nc: NatsConnection;

  beforeEach(async () => {
    tn = createTestNats("reporter");
    names = wireNames(tn.prefix);
    nc = await connect({ servers: tn.url });
    await ensureWireResources(nc, names);
  });

  afterEach(async () => {
    await nc.close();
    await tn.cleanup();
  });

  it("publishes status, drift and heartbeat reports with their id as message id, on their own subjects", async () => {
    const reporter = new NatsReporter({ connection: nc, names, cluster: CLUSTER, agent: AGENT, retry: FAST });
    try {
      reporter.status(status(1));
      reporter.drift(drift(1));
      reporter.heartbeat({ generation: 1, deadlineSeconds: 30 });
      await reporter.flush();
      expect(reporter.pending()).toBe(0);
    } finally {
      await reporter.stop();
    }
    const got = await readReports(nc, names);
    expect(got.map((g) => g.report.kind)).toEqual(["status", "drift", "heartbeat"]);
    for (const g of got) {
      expect(g.subject).toBe(reportSubject(names, CLUSTER, g.report.kind));
      expect(g.msgId).toBe(g.report.id);
      expect(g.report).toMatchObject({ cluster: CLUSTER, agent: AGENT, generation: 1 });
      expect(Number.isNaN(Date.parse(g.report.at))).toBe(false);
    }
    expect(new Set(got.map((g) => g.msgId)).size).toBe(3);
    expect(nc.isClosed()).toBe(false); // a caller-owned connection is left open
  });
});

describe("NatsReporter with an unusable spool directory", () => {
  it("says so once and still delivers from memory", async () => {
    const tn = createTestNats("spoolfail");
    const names = wireNames(tn.prefix);
    const nc = await connect({ servers: tn.url });
    const dir = await mkdtemp(join(tmpdir(), "flotilla-spool-"));
    const blocker = join(dir, "file");
    await writeFile(blocker, "");
    const errors: string[] = [];
    const reporter = new NatsReporter({ connection: nc, names, cluster: CLUSTER, agent: AGENT, spoolDir: blocker, retry: FAST, onError: (_e, d) => errors.push(d) });
    try {
      await ensureWireResources(nc, names);
      reporter.status(status(1));
      reporter.heartbeat({ generation: 1, deadlineSeconds: 30 });
      await reporter.flush();
      expect((await readReports(nc, names)).map((g) => g.report.kind)).toEqual(["status", "heartbeat"]);
      expect(errors.filter((d) => d.includes("spool"))).toHaveLength(1);
    } finally {
      await reporter.stop();
      await nc.close();
      await tn.cleanup();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("NatsReporter while NATS is away", () => {
  let server: PrivateNats;
  let spoolDir: string;
  let admin: NatsConnection | undefined;
  const names = wireNames("outage");
  const reporters: NatsReporter[] = [];

  const newReporter = (extra: Partial<NatsReporterOptions> = {}) => {
    const r = new NatsReporter({
      connection: () => connectAgentNats({ servers: server.url, reconnectTimeWait: 100 }),
      names,
      cluster: CLUSTER,
      agent: AGENT,
      spoolDir,
      retry: FAST,
      publishTimeoutMs: 1_000,
      ...extra,
    });
    reporters.push(r);
    return r;
  };

  /** Starts the private server and, once, the hub's resources on it. */
  async function serverUp(): Promise<NatsConnection> {
    await server.start();
    admin ??= await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
    const hubNc = admin;
    await waitFor("report stream", async () => {
      try {
        await ensureWireResources(hubNc, names);
        return true;
      } catch {
        return false;
      }
    });
    return hubNc;
  }

  beforeEach(async () => {
    server = await privateNats();
    spoolDir = await mkdtemp(join(tmpdir(), "flotilla-spool-"));
  });

  afterEach(async () => {
    for (const r of reporters.splice(0)) await r.stop();
    await admin?.close();
    admin = undefined;
    await server.dispose();
    await rm(spoolDir, { recursive: true, force: true });
  });

  it("delivers every report exactly once and in order after outages and across a reporter restart", async () => {
    // NATS is down from the start: ten status reports queue up and are spooled.
    const first = newReporter();
    for (let g = 1; g <= 10; g++) first.status(status(g));
    expect(first.pending()).toBe(10);
    await first.stop();

    // The agent restarts: the spool brings the ten back, five drift reports join them.
    const second = newReporter();
    expect(second.pending()).toBe(10);
    for (let g = 11; g <= 15; g++) second.drift(drift(g));
    expect(second.pending()).toBe(15);

    const hubNc = await serverUp();
    await second.flush();
    expect(second.pending()).toBe(0);

    // NATS goes away under a live connection and comes back.
    await server.stop();
    for (let g = 16; g <= 20; g++) second.status(status(g));
    expect(second.pending()).toBeGreaterThan(0);
    await server.start();
    await second.flush();

    const got = await waitFor("20 reports", async () => {
      const r = await readReports(hubNc, names);
      return r.length >= 20 ? r : undefined;
    });
    expect(got.map((g) => g.report.generation)).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(new Set(got.map((g) => g.msgId)).size).toBe(20);
    expect(got.slice(10, 15).every((g) => g.report.kind === "drift")).toBe(true);
    // Everything acknowledged: the spool is compacted to nothing.
    const spoolFile = join(spoolDir, `${CLUSTER}.reports.jsonl`);
    expect(await readFile(spoolFile, "utf8")).toBe("");

    // A crash after JetStream stored a report but before the spool recorded the ack: the next run
    // publishes it again under the same id, and the stream keeps one copy.
    await second.stop();
    await writeFile(spoolFile, `${JSON.stringify({ add: got[19]?.report })}\n`);
    const third = newReporter();
    expect(third.pending()).toBe(1);
    await third.flush();
    const after = await readReports(hubNc, names);
    expect(after).toHaveLength(20);
  });

  it("over maxPending coalesces heartbeats to the newest and keeps every status and drift report", async () => {
    const reporter = newReporter({ maxPending: 5 });
    const beat = (generation: number): HeartbeatBody => ({ generation, deadlineSeconds: 30 });
    reporter.status(status(1));
    for (let g = 1; g <= 4; g++) reporter.heartbeat(beat(g));
    reporter.drift(drift(2));
    for (let g = 5; g <= 9; g++) reporter.heartbeat(beat(g));
    reporter.status(status(3));
    reporter.status(status(4));
    reporter.status(status(5));
    reporter.status(status(6));
    // The five status and one drift reports never go; of nine heartbeats only the newest is left,
    // so the queue ends above maxPending by status reports alone.
    expect(reporter.pending()).toBe(7);

    const hubNc = await serverUp();
    await reporter.flush();
    const got = await readReports(hubNc, names);
    expect(got.map((g) => `${g.report.kind}:${g.report.generation}`)).toEqual([
      "status:1",
      "drift:2",
      "heartbeat:9",
      "status:3",
      "status:4",
      "status:5",
      "status:6",
    ]);
  });
});

describe("startHeartbeats", () => {
  it("beats at once and every interval with the current generation until stopped", () => {
    vi.useFakeTimers();
    try {
      const beats: HeartbeatBody[] = [];
      const reporter: Reporter = {
        status: () => undefined,
        drift: () => undefined,
        heartbeat: (b) => beats.push(b),
        flush: async () => undefined,
        pending: () => 0,
        stop: async () => undefined,
      };
      let generation = 0;
      const hb = startHeartbeats(reporter, { intervalMs: 1_000, generation: () => generation });
      expect(beats).toEqual([{ generation: 0, deadlineSeconds: 3 }]);
      generation = 7;
      vi.advanceTimersByTime(2_500);
      expect(beats.map((b) => b.generation)).toEqual([0, 7, 7]);
      hb.stop();
      vi.advanceTimersByTime(10_000);
      expect(beats).toHaveLength(3);
    } finally {
      vi.useRealTimers();
    }
  });
});
