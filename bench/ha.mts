// Hub failover time: two `flotilla hub` processes (the CLI, as deployed) on one fresh Postgres
// database and one NATS prefix; the leader is killed with SIGKILL while it publishes a commit's
// pointers (after --kill-after of them), and the figure is SIGKILL → the new leader's first
// published pointer (its log line's time), plus SIGKILL → every cluster's pointer at the commit.
// The killed hub is started again as a follower and the next run kills the other one.
//
//   node --conditions=@flotilla/source --import tsx bench/ha.mts [--runs 5] [--clusters 120] [--kill-after 20]
//   npm run bench -- ha
//
// What bounds it: the follower's lease check (every 1 s: a random 0–1 s wait), then a full
// resolve (fetch, render of every cluster, a KV read per cluster) before the first publish.
import { parseArgs } from "node:util";
import { startHaRig } from "../tests/e2e/test/faults/support/ha-rig.ts";
import { figure, heading, ms } from "./lib/stats.mts";

const { values } = parseArgs({
  options: {
    runs: { type: "string", default: "5" },
    clusters: { type: "string", default: "120" },
    "kill-after": { type: "string", default: "20" },
  },
});
const runs = Number(values.runs);
const clusters = Number(values.clusters);
const killAfter = Number(values["kill-after"]);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

heading(`bench/ha: leader SIGKILL mid-publish → the follower's first publish (${clusters} clusters, ${runs} runs, 2 hub processes, lease check every 1 s)`);
const rig = await startHaRig({ clusters, label: "benchha" });
const takeover: number[] = [];
const complete: number[] = [];
try {
  for (let i = 0; i < runs; i++) {
    const o = await rig.failover(killAfter);
    takeover.push(o.takeoverMs);
    complete.push(o.completeMs);
    console.log(`run ${i + 1}: killed ${o.killed.name} after ${o.publishedBeforeKill} pointers; ${o.leader.name} first publish ${ms(o.takeoverMs)}, all ${clusters} pointers ${ms(o.completeMs)}`);
    await rig.restart(o.killed);
  }
} finally {
  await rig.close();
}
figure("failover: SIGKILL → new leader's first publish, best", ms(Math.min(...takeover)));
figure("failover: SIGKILL → new leader's first publish, median", ms(median(takeover)));
figure(`failover: SIGKILL → all ${clusters} pointers published, median`, ms(median(complete)));
