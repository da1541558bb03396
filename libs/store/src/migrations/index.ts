// Static migration list: names sort in apply order. Add new files here; never edit a shipped one.
import type { Migration, MigrationProvider } from "kysely";
import { fleetState } from "./0001_fleet_state.js";
import { breakGlass } from "./0002_break_glass.js";
import { promotions } from "./0003_promotions.js";
import { promotionSupersededBy } from "./0004_promotion_superseded_by.js";
import { promotionVersion } from "./0005_promotion_version.js";

export const migrations: Record<string, Migration> = {
  "0001_fleet_state": fleetState,
  "0002_break_glass": breakGlass,
  "0003_promotions": promotions,
  "0004_promotion_superseded_by": promotionSupersededBy,
  "0005_promotion_version": promotionVersion,
};

export const staticMigrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
