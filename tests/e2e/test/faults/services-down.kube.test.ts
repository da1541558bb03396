// Fault campaign, the services around the fleet: NATS restarted, Postgres stopped and started, the
// Git server down, and a storm of reports. Each on a fleet of its own (private NATS and Postgres —
// never the shared ones, other tests use them), asserting nothing lost, nothing duplicated and no
// write to the cluster that no desired change explains; the recovery time is recorded.
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { privateNats, privatePostgres, waitFor, type PrivateNats, type PrivatePostgres } from "@flotilla/testkit";
import { useSharedControlPlane } from "@flotilla/testkit/vitest";
import { startFaultRig, type FaultRig } from "./support/fault-rig.js";
import { recordFault } from "./support/record.js";

const plane = useSharedControlPlane();
let postgres: PrivatePostgres;
let nats: PrivateNats;
let rig: FaultRig | undefined;
let databases = 0;

beforeAll(async () => {
  postgres = await privatePostgres();
});
afterAll(async () => {
  await postgres?.dispose();
});
afterEach(async () => {
  await rig?.dispose();
  rig = undefined;
  await nats?.dispose();
});

async function fleet(): Promise<FaultRig> {
  nats = await privateNats();
  await nats.start();
  const namespace = await plane.freshNamespace("fault");
  rig = await startFaultRig({ natsUrl: nats.url, databaseUrl: await postgres.createDatabase(`fault_${++databases}`), kubeConfig: plane.kubeConfig, namespace });
  rig.probe(10);
  await rig.settled("the fleet synced before the fault");
  return rig;
}

async function assertAndRecord(r: FaultRig, fault: string, recoveryMs: number): Promise<void> {
  const f = await r.figures();
  recordFault({ fault, ...f, recoveryMs });
  expect(f).toMatchObject({ lost: 0, duplicated: 0, spurious: 0 });
}

describe("fault campaign: services", () => {
  it("NATS restart: reports queued while it is away are all stored once; nothing re-applied", async () => {
    const r = await fleet();
    await nats.stop();
    r.probe(50);
    await nats.start();
    const t0 = performance.now();
    await r.settled("every report after the NATS restart");
    const recoveryMs = performance.now() - t0;
    // The desired path works again too: a commit reaches the cluster.
    await r.change("v1");
    await r.settled("a commit after the NATS restart");
    await assertAndRecord(r, "NATS restart (single server, store kept)", recoveryMs);
  });

  it("Postgres stop/start: ingest waits and redelivers; nothing lost or doubled", async () => {
    const r = await fleet();
    await postgres.stop();
    try {
      r.probe(50);
      // The reports reach JetStream while the database is down (the reporter has nothing pending).
      await waitDrained(r);
    } finally {
      await postgres.start();
    }
    const t0 = performance.now();
    await r.settled("every report after the Postgres restart");
    const recoveryMs = performance.now() - t0;
    await r.change("v1");
    await r.settled("a commit after the Postgres restart");
    await assertAndRecord(r, "Postgres stop/start", recoveryMs);
  });

  it("Git server down: the hub keeps the last pointers, the agent writes nothing; the commit lands once Git is back", async () => {
    const r = await fleet();
    await r.gitGate.down();
    const before = r.writes.total();
    const revision = await r.change("v1"); // pushed to the server directly; the hub cannot fetch it
    r.probe(20);
    const pointer = await r.hub.database.db.selectFrom("desired_pointers").select(["revision"]).orderBy("generation", "desc").executeTakeFirstOrThrow();
    expect(pointer.revision).not.toBe(revision);
    expect(r.writes.total()).toBe(before);
    await r.gitGate.up();
    const t0 = performance.now();
    await r.hub.resolver.refresh();
    await r.settled("the commit made while Git was down");
    await assertAndRecord(r, "Git server down", performance.now() - t0);
  });

  it("reports storm: 2,000 reports at once are all stored once", async () => {
    const r = await fleet();
    const t0 = performance.now();
    r.probe(2_000);
    await r.settled("the storm ingested", 180_000);
    await assertAndRecord(r, "reports storm (2,000 at once)", performance.now() - t0);
  });
});

async function waitDrained(r: FaultRig): Promise<void> {
  await waitFor(() => r.probePending() === 0, { what: "probe reports published to JetStream", timeoutMs: 30_000 });
}
