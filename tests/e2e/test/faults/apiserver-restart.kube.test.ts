// Fault campaign: kube-apiserver stopped and started again (same etcd, port and PKI) under a
// running agent, on a control plane of this test's own (the shared one serves other tests). The
// agent's watches break with it; once it is back, an out-of-band change must be seen and reverted
// again (drift detection works), a commit must be applied, and the restart itself must cause no
// write: nothing re-applied, no report lost or doubled.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createTestDatabase,
  kubeRequestOk,
  privateNats,
  startControlPlane,
  waitFor,
  type ControlPlane,
  type PrivateNats,
  type TestDatabase,
} from "@flotilla/testkit";
import { startFaultRig, type FaultRig } from "./support/fault-rig.js";
import { recordFault } from "./support/record.js";

let plane: ControlPlane;
let nats: PrivateNats | undefined;
let database: TestDatabase | undefined;
let rig: FaultRig | undefined;

beforeAll(async () => {
  // etcd + kube-apiserver only: ConfigMaps need no controllers, and two cores are shared.
  plane = await startControlPlane({ name: "fault-apiserver", controllers: false });
}, 240_000);
afterAll(async () => {
  await rig?.dispose();
  await nats?.dispose();
  await database?.drop();
  await plane?.stop();
}, 60_000);

describe("fault campaign: kube-apiserver", () => {
  it("restart: the agent's watches recover, drift is reverted again, a commit lands; the restart writes nothing", async () => {
    nats = await privateNats();
    await nats.start();
    database = await createTestDatabase("faultapi");
    const namespace = await plane.createNamespace("fault-api");
    rig = await startFaultRig({ natsUrl: nats.url, databaseUrl: database.url, kubeConfig: plane.kubeConfig, namespace });
    const r = rig;
    r.probe(10);
    await r.settled("the fleet synced before the fault");
    const before = r.writes.total();

    const { downMs } = await plane.restartApiserver();
    const t0 = performance.now();
    r.probe(20);
    // The test's own write counter watches again before the intrusion, so it sees both writes.
    await waitFor(() => r.writes.watching(), { what: "the write counter watching again" });
    // Someone edits a managed field once the apiserver is back: the agent (enforce, the default)
    // must see it through its re-established watch and revert it.
    await kubeRequestOk(plane.kubeConfig, {
      method: "PATCH",
      path: `/api/v1/namespaces/${namespace}/configmaps/cm-0?fieldManager=fault-intruder`,
      contentType: "application/merge-patch+json",
      body: { data: { value: "intruded" } },
    });
    r.expectedWrites += 2; // the intrusion and its revert
    await waitFor(
      async () => {
        const rows = await r.hub.database.db.selectFrom("drift_events").select(["action"]).where("name", "=", "cm-0").where("namespace", "=", namespace).execute();
        return r.writes.get("cm-0")?.data?.value === "v0" && rows.length > 0 ? rows : undefined;
      },
      { what: "the intrusion on cm-0 reverted and recorded after the restart", timeoutMs: 120_000 },
    );
    await r.settled("reports after the apiserver restart");
    const recoveryMs = performance.now() - t0;
    // Nothing but the intrusion and its revert was written since the restart.
    expect(r.writes.total() - before).toBe(2);

    await r.change("v1");
    await r.settled("a commit after the apiserver restart");
    const f = await r.figures();
    recordFault({ fault: "kube-apiserver restart", ...f, recoveryMs, apiserverDownMs: downMs });
    expect(f).toMatchObject({ lost: 0, duplicated: 0, spurious: 0 });
  }, 400_000);
});
