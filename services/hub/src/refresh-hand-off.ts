// "Fetch the env repo now" (POST /v1/refresh, a Git webhook) on any replica. The leader resolves;
// a follower hands the request to the leader with a Postgres NOTIFY on the fleet's refresh
// channel, which the leader LISTENs to on its lease session (leader-lease.ts), and answers 202
// naming the leader — so a webhook behind a load balancer works whichever replica it reaches.
// With no leader (the lease being taken over) there is nobody to hand it to: FLOTILLA_ERR_NOT_LEADER;
// the next leader resolves everything when it takes over anyway.
import { createHash } from "node:crypto";
import type { Kysely } from "kysely";
import { ErrorCode, FlotillaError } from "@flotilla/model";
import { notifyChannel, type FleetSchema } from "@flotilla/store";
import type { RefreshResult } from "./api/hub-control.js";
import type { Leadership } from "./leadership.js";
import type { Resolver, ResolverLogger } from "./resolver.js";

/** The fleet's NOTIFY channel (an identifier: at most 63 bytes, whatever the prefix). */
export function refreshChannelOf(natsPrefix: string): string {
  return `flotilla_refresh_${createHash("sha256").update(natsPrefix).digest("hex").slice(0, 16)}`;
}

export interface RefreshHandOffOptions {
  db: Kysely<FleetSchema>;
  channel: string;
  /** Late-bound: the lease (which delivers hand-offs) is opened before the leadership and resolver exist. */
  leadership(): Leadership;
  resolver(): Resolver;
  logger: ResolverLogger;
}

export interface RefreshHandOff {
  /** Resolve now on the leader; hand off from a follower. */
  refresh(): Promise<RefreshResult>;
  /** A hand-off arrived on the channel (the lease's LISTEN). */
  received(payload: string): void;
}

export function createRefreshHandOff(opts: RefreshHandOffOptions): RefreshHandOff {
  const log = opts.logger;
  return {
    async refresh() {
      const leadership = opts.leadership();
      if (leadership.role() === "leader") return opts.resolver().refresh();
      const leader = await leadership.leader();
      if (!leader) throw new FlotillaError(ErrorCode.NotLeader, `no hub leads right now (the lease is being taken over); retry in a few seconds — the next leader resolves the env repo when it takes over`);
      await notifyChannel(opts.db, opts.channel, JSON.stringify({ from: leadership.identity }));
      log.info({ leader }, "refresh handed off to the leader");
      return { handedOff: true, leader };
    },
    received(payload) {
      const leadership = opts.leadership();
      // Every replica listens (any may lead next); only the leader acts.
      if (leadership.role() !== "leader") return;
      let from: unknown;
      try {
        from = (JSON.parse(payload) as { from?: unknown }).from;
      } catch {
        from = undefined;
      }
      log.info({ from }, "refresh handed off by a follower; resolving");
      opts
        .resolver()
        .refresh()
        .catch((err: unknown) => log.error({ err: String(err) }, "handed-off refresh failed; the next poll retries"));
    },
  };
}
