/** What writing one report did: `stale` = it was older than what is stored and changed nothing. */
export type WriteOutcome = "ingested" | "stale";
