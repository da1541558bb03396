// The hub's maxReportBytes setting reaches report ingest: with a small configured limit, a report
// above it is refused with its stable code, kept in rejected_reports (and GET /v1/rejected-reports)
// naming its size and the limit, and the next good report is ingested. Real hub, NATS and PG 15.
import { mkdtemp, rm } from "node:fs/promises";
import { randomUUID } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { jetstream } from "@nats-io/jetstream";
import { sql } from "kysely";
import { ErrorCode, FlotillaError, type DriftReport } from "@flotilla/model";
import { createWorkRepo, readFilesFrom } from "@flotilla/envrepo/testing";
import { createTestDatabase, createTestNats, waitFor, type TestNats } from "@flotilla/testkit";
import { encodeJson, generateSigningKey, reportSubject } from "@flotilla/wire";
import { startHub, type Hub } from "../src/hub.js";

const EXAMPLE = fileURLToPath(new URL("../../../examples/env-repo", import.meta.url));
const LIMIT = 4096;

const drift = (name: string, actor = "kubectl-edit"): DriftReport => ({
  id: randomUUID(),
  kind: "drift",
  cluster: "dev-1",
  agent: "dev-1/agent-0/1",
  at: new Date().toISOString(),
  generation: 1,
  revision: "1".repeat(40),
  app: "shop",
  object: { group: "", kind: "ConfigMap", namespace: "shop", name },
  paths: [{ path: "/data/x", desired: "a", live: "b" }],
  actor,
  changedAt: new Date().toISOString(),
  policy: "warn",
  action: "left",
});

describe("hub config maxReportBytes", () => {
  let nats: TestNats;
  let dir: string;
  let hub: Hub;
  let drop: () => Promise<void>;

  beforeAll(async () => {
    nats = createTestNats("reportlimit");
    dir = await mkdtemp(join(tmpdir(), "hub-report-limit-"));
    await createWorkRepo(dir, await readFilesFrom(EXAMPLE));
    const testDb = await createTestDatabase("report_limit");
    drop = testDb.drop;
    hub = await startHub({
      auth: { insecureNoAuth: true },
      repo: { path: dir },
      databaseUrl: testDb.url,
      natsUrl: nats.url,
      natsPrefix: nats.prefix,
      signingKey: generateSigningKey(),
      port: 0,
      pollIntervalMs: 3_600_000,
      maxReportBytes: LIMIT,
    });
  }, 60_000);
  afterAll(async () => {
    await hub?.stop();
    await nats?.cleanup();
    await drop?.();
    await rm(dir, { recursive: true, force: true });
  });

  it("refuses a report over the configured limit with its code, records it, and ingests the next good one", async () => {
    const js = jetstream(hub.nc);
    const big = drift("too-big", "x".repeat(LIMIT));
    const bigBytes = encodeJson(big);
    expect(bigBytes.length).toBeGreaterThan(LIMIT);
    await js.publish(reportSubject(hub.names, "dev-1", "drift"), bigBytes, { msgID: big.id });
    const good = drift("fits");
    await js.publish(reportSubject(hub.names, "dev-1", "drift"), encodeJson(good), { msgID: good.id });

    await waitFor(() => hub.ingest.counts.rejected === 1 && hub.ingest.counts.ingested === 1, {
      what: `one rejected and one ingested report (counts ${JSON.stringify(hub.ingest.counts)})`,
      timeoutMs: 20_000,
    });
    const res = await fetch(`${hub.url}/v1/rejected-reports`);
    expect(res.status).toBe(200);
    const rejected = (await res.json()) as { messageId: string; error: { code: string; message: string }; rawBase64: string }[];
    expect(rejected).toHaveLength(1);
    expect(rejected[0]!.messageId).toBe(big.id);
    expect(rejected[0]!.error.code).toBe(ErrorCode.ReportInvalid);
    expect(rejected[0]!.error.message).toContain(`is ${bigBytes.length} bytes, which exceeds the limit of ${LIMIT} bytes`);
    // Nothing is lost: the refused report's bytes are kept whole.
    expect(Buffer.from(rejected[0]!.rawBase64, "base64").length).toBe(bigBytes.length);

    const rows = (await sql<{ name: string }>`select name from drift_events where cluster = 'dev-1'`.execute(hub.database.db)).rows;
    expect(rows.map((r) => r.name)).toEqual(["fits"]);
  });

  it("refuses a limit that is not a positive number of bytes, naming the setting", async () => {
    const base = { auth: { insecureNoAuth: true } as const, repo: { path: dir }, natsUrl: nats.url, signingKey: generateSigningKey() };
    for (const bad of [0, -1, 1.5, Number.NaN]) {
      const err = await startHub({ ...base, maxReportBytes: bad }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(FlotillaError);
      expect((err as FlotillaError).code).toBe(ErrorCode.ConfigInvalid);
      expect((err as FlotillaError).message).toContain("maxReportBytes");
    }
  });
});
