import type { Kysely } from "kysely";
import type { FleetSchema } from "@flotilla/store";
import type { HubControl } from "./hub-control.js";

/** What every route gets. */
export interface ApiContext {
  db: Kysely<FleetSchema>;
  hub: HubControl | undefined;
  /** The hub's clock: heartbeat deadlines are measured against it. */
  clock: () => Date;
}
