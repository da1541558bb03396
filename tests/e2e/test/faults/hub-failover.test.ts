// Fault campaign: two `flotilla hub` processes on one database and one NATS prefix; the leader is
// killed with SIGKILL while it is publishing a commit's pointers (part of the fleet has the new
// pointer, part not), with agent reports arriving. Its Postgres session ends with it, so the
// advisory lock is released; the follower takes the lease at its next check (every 1 s), resolves
// from scratch and publishes the rest. No cluster's generation may go backwards or repeat in the
// KV history, and every report is stored (the ingest consumer is shared by both hubs).
// The shared Postgres and NATS are fine here: nothing stops them; the database and the prefix are
// this test's own. No Kubernetes: reports are published straight to JetStream.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitFor } from "@flotilla/testkit";
import { startHaRig, type HaRig } from "./support/ha-rig.js";
import { recordFault } from "./support/record.js";

const CLUSTERS = 120;
/** The leader is killed once it published this many of the commit's pointers. */
const KILL_AFTER = 20;
const REPORTS = 2_000;
/** Lease check every 1 s + a full resolve of 120 clusters on 2 shared cores. */
const TAKEOVER_BOUND_MS = 15_000;

let rig: HaRig;

beforeAll(async () => {
  rig = await startHaRig({ clusters: CLUSTERS, label: "faulthubha" });
}, 300_000);

afterAll(async () => {
  await rig?.close();
}, 60_000);

describe("fault campaign: hub high availability", () => {
  it("kill -9 of the leader mid-publish: the follower takes over within the bound, generations only increase, no report is lost", async () => {
    const { leader, follower } = await rig.roles();
    expect(leader.name).toBe("hub-a");

    const publishing = rig.publishReports(REPORTS);
    const outcome = await rig.failover(KILL_AFTER);
    expect(await outcome.killed.process.exited).toBe("SIGKILL");
    expect(outcome.leader.name).toBe(follower.name);
    // The kill came in the middle of the publish: some clusters had the new pointer, some not.
    expect(outcome.publishedBeforeKill).toBeGreaterThanOrEqual(KILL_AFTER);
    expect(outcome.publishedBeforeKill).toBeLessThan(CLUSTERS);
    expect(outcome.takeoverMs).toBeLessThan(TAKEOVER_BOUND_MS);
    await follower.process.logLine("hub gained leadership", 1_000);
    const ready = (await (await fetch(`${follower.url}/readyz`)).json()) as { role: string; leader: string };
    expect(ready).toMatchObject({ role: "leader", leader: "hub-b" });

    let versions = 0;
    // Spurious: a second pointer for the same commit (both hubs publishing one cluster).
    let spurious = 0;
    for (const cluster of rig.clusters) {
      const history = await rig.pointerHistory(cluster);
      versions += history.length;
      spurious += Math.max(0, history.filter((h) => h.revision === outcome.revision).length - 1);
      for (let i = 1; i < history.length; i++) expect(history[i]!.generation, `${cluster}: ${JSON.stringify(history)}`).toBeGreaterThan(history[i - 1]!.generation);
      expect(history.at(-1)!.revision).toBe(outcome.revision);
    }

    await publishing;
    await waitFor(async () => (await rig.storedReports()).distinct === REPORTS, { what: `all ${REPORTS} reports stored`, timeoutMs: 120_000, intervalMs: 100 });
    const stored = await rig.storedReports();
    const figures = { sent: REPORTS, lost: REPORTS - stored.distinct, duplicated: stored.rows - stored.distinct, spurious };
    recordFault({ fault: "hub leader kill -9 mid-publish (2 replicas)", ...figures, recoveryMs: outcome.completeMs, takeoverMs: outcome.takeoverMs, completeMs: outcome.completeMs, publishedBeforeKill: outcome.publishedBeforeKill, clusters: CLUSTERS, pointerVersions: versions });
    expect(figures).toMatchObject({ lost: 0, duplicated: 0, spurious: 0 });
    console.log(`[ha] takeover ${outcome.takeoverMs} ms, all ${CLUSTERS} pointers at the commit ${outcome.completeMs} ms after the kill (${outcome.publishedBeforeKill} published before it)`);
  }, 300_000);
});
