// A heartbeat: the agent is alive, and announces the deadline after which the hub may consider it
// silent. Only the newest heartbeat per cluster is kept.
import { sql, type Transaction } from "kysely";
import type { HeartbeatReport } from "@flotilla/model";
import type { FleetSchema } from "../schema.js";
import { reportTimestamp } from "../timestamps.js";
import type { WriteOutcome } from "./write-outcome.js";

export async function writeHeartbeat(trx: Transaction<FleetSchema>, report: HeartbeatReport): Promise<WriteOutcome> {
  const at = reportTimestamp(report.at, "at");
  const written = await trx
    .insertInto("heartbeats")
    .values({ cluster: report.cluster, agent: report.agent, at, generation: report.generation, deadline_seconds: report.deadlineSeconds })
    .onConflict((oc) =>
      oc
        .column("cluster")
        .doUpdateSet((eb) => ({
          agent: eb.ref("excluded.agent"),
          at: eb.ref("excluded.at"),
          generation: eb.ref("excluded.generation"),
          deadline_seconds: eb.ref("excluded.deadline_seconds"),
        }))
        // A heartbeat delivered late (from a backlog) must not make a silent agent look alive.
        .where("heartbeats.at", "<", sql<Date>`excluded.at`),
    )
    .returning("cluster")
    .executeTakeFirst();
  return written ? "ingested" : "stale";
}
