// One cluster's overview plus the per-app and per-object status its agent last reported.
import type { Kysely } from "kysely";
import type { ChangeAction, Health } from "@flotilla/model";
import type { FleetSchema } from "../schema.js";
import { listClusterOverviews, type ClusterOverview } from "./cluster-overview.js";

export interface ObjectStatusView {
  group: string;
  kind: string;
  namespace: string;
  name: string;
  action: ChangeAction;
  reason: string;
  message: string | null;
  health: Health;
  healthReason: string | null;
  images: string[];
  generation: number;
  updatedAt: string;
}

export interface AppStatusView {
  name: string;
  health: Health;
  generation: number;
  updatedAt: string;
  objects: ObjectStatusView[];
}

export interface ClusterDetail extends ClusterOverview {
  apps: AppStatusView[];
}

/** undefined when the fleet has no (active) cluster of that name. */
export async function getClusterDetail(
  db: Kysely<FleetSchema>,
  name: string,
  options: { now?: Date } = {},
): Promise<ClusterDetail | undefined> {
  const [overview] = await listClusterOverviews(db, { name, ...options });
  if (!overview) return undefined;
  const [apps, objects] = await Promise.all([
    db.selectFrom("app_status").selectAll().where("cluster", "=", name).orderBy("app").execute(),
    db
      .selectFrom("object_status")
      .selectAll()
      .where("cluster", "=", name)
      .orderBy("app")
      .orderBy("group")
      .orderBy("kind")
      .orderBy("namespace")
      .orderBy("name")
      .execute(),
  ]);
  const byApp = new Map<string, AppStatusView>(
    apps.map((a) => [a.app, { name: a.app, health: a.health, generation: a.generation, updatedAt: a.updated_at.toISOString(), objects: [] }]),
  );
  for (const o of objects) {
    byApp.get(o.app)?.objects.push({
      group: o.group,
      kind: o.kind,
      namespace: o.namespace,
      name: o.name,
      action: o.action,
      reason: o.reason,
      message: o.message,
      health: o.health,
      healthReason: o.health_reason,
      images: o.images,
      generation: o.generation,
      updatedAt: o.updated_at.toISOString(),
    });
  }
  return { ...overview, apps: [...byApp.values()] };
}
