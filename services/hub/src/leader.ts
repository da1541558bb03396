// The hub's leader lease: see @flotilla/store's leader-lease.ts (a Postgres advisory lock).
export { openLeaderLease, soleLeader, SOLE_LEADER, type LeaderLease } from "@flotilla/store";
