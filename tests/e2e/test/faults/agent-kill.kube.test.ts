// Fault campaign: `flotilla agent` (a real child process) killed with SIGKILL while it applies a
// commit that changes 180 ConfigMaps, adds 20 and drops 20, then started again on the same state
// dir. What it had applied is left as it was, every object it touched is at the new commit's value
// (none from another revision), the restarted agent finishes the apply and the prune, writes no
// object a second time, keeps an inventory of exactly the new objects, and reports Synced.
import { afterEach, describe, expect, it } from "vitest";
import { decodeInventory, INVENTORY_DATA_KEY, inventoryName } from "@flotilla/kube";
import { createTestDatabase, kubeRequestOk, privateNats, waitFor, type PrivateNats, type TestDatabase } from "@flotilla/testkit";
import { useSharedControlPlane } from "@flotilla/testkit/vitest";
import { startFaultRig, type FaultRig } from "./support/fault-rig.js";
import { recordFault } from "./support/record.js";

const plane = useSharedControlPlane();
let nats: PrivateNats | undefined;
let database: TestDatabase | undefined;
let rig: FaultRig | undefined;

afterEach(async () => {
  await rig?.dispose();
  await nats?.dispose();
  await database?.drop();
});

const OBJECTS = 200;
/** Objects the new commit has: 20..219 (0..19 dropped, 200..219 added). */
const NEXT = Array.from({ length: OBJECTS }, (_, i) => i + 20);
/** The agent is killed once this many objects carry the new value. */
const KILL_AFTER = 30;

describe("fault campaign: agent", () => {
  it("kill -9 mid-apply: the restarted agent converges, nothing from a wrong revision, inventory and prune right, no write twice", async () => {
    nats = await privateNats();
    await nats.start();
    database = await createTestDatabase("faultagent");
    const namespace = await plane.freshNamespace("fault-agent");
    rig = await startFaultRig({ natsUrl: nats.url, databaseUrl: database.url, kubeConfig: plane.kubeConfig, namespace, objects: OBJECTS, agentProcess: { kubeconfigPath: plane.kubeconfigPath } });
    rig.probe(10);
    await rig.settled("the fleet synced before the fault", 180_000);
    const r = rig;
    const valueOf = (name: string) => r.writes.get(name)?.data?.value;

    await r.change("v1", { objects: NEXT });
    await waitFor(() => NEXT.filter((i) => valueOf(`cm-${i}`) === "v1").length >= KILL_AFTER, { what: `${KILL_AFTER} objects applied at v1`, timeoutMs: 60_000, intervalMs: 5 });
    await r.agentProcess!.kill();
    expect(await r.agentProcess!.exited).toBe("SIGKILL");
    const t0 = performance.now();
    const atKill = NEXT.filter((i) => valueOf(`cm-${i}`) === "v1").length;
    const writesAtKill = r.writes.total();
    // The kill came mid-apply, and what the agent wrote is the new commit's, nothing else.
    expect(atKill).toBeLessThan(NEXT.length);
    for (const [name] of r.writes.writes) expect(["v0", "v1"], name).toContain(valueOf(name));
    // Reports go on while the agent is dead (the probe reporter is the test's own).
    r.probe(20);

    await r.restartAgent();
    await r.settled("the restarted agent synced at the new commit", 180_000);
    const recoveryMs = performance.now() - t0;

    // Inventory: exactly the new commit's objects (the dropped ones pruned and forgotten).
    const inventories = await kubeRequestOk<{ items: { metadata: { name: string; namespace: string }; data?: Record<string, string> }[] }>(plane.kubeConfig, {
      path: `/api/v1/configmaps?labelSelector=${encodeURIComponent("flotilla.dev/inventory=true,flotilla.dev/cluster=fault-1")}`,
    });
    const inventory = inventories.body.items.find((cm) => cm.metadata.name === inventoryName("probe"));
    expect(inventory, "the app's inventory").toBeDefined();
    const entries = decodeInventory(inventory!.data![INVENTORY_DATA_KEY]!);
    expect(entries.map((e) => `${e.ref.namespace}/${e.ref.name}`).sort()).toEqual(NEXT.map((i) => `${namespace}/cm-${i}`).sort());
    for (let i = 0; i < 20; i++) expect(r.writes.deleted(`cm-${i}`), `cm-${i} pruned`).toBe(true);
    // Each object written once for the commit: the restart re-wrote none of those done before the kill.
    for (const i of NEXT) expect(r.writes.writes.get(`cm-${i}`), `cm-${i}`).toBe(i < OBJECTS ? 2 : 1);

    const f = await r.figures();
    recordFault({ fault: "agent kill -9 mid-apply", ...f, recoveryMs, appliedAtKill: atKill, writesAtKill });
    expect(f).toMatchObject({ lost: 0, duplicated: 0, spurious: 0 });
  }, 400_000);
});
