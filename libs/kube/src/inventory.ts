// Inventory: per app, the objects the agent applied, stored in the cluster as a ConfigMap
// `flotilla-inventory-<app>` so that a restarted (or replaced) agent knows what to prune.
import type { KubeObject, ObjectRef } from "@flotilla/model";
import { parseRefKey, refKey, refOf } from "@flotilla/model";
import type { ChangeSet } from "./changeset.js";
import type { KubeClient } from "./client.js";
import { DEFAULT_FIELD_MANAGER, Label } from "./conventions.js";
import { isObject } from "./json.js";
import { fail, ok, type KubeResult } from "./result.js";

export interface InventoryEntry {
  ref: ObjectRef;
  /** The version it was applied with; deletes and reads address the object through it. */
  apiVersion: string;
}

/** The ConfigMap data key holding the entries as JSON: `[{ "ref": "<refKey>", "apiVersion": … }]`. */
export const INVENTORY_DATA_KEY = "inventory.json";
export const inventoryName = (app: string): string => `flotilla-inventory-${app}`;

export const entryOf = (o: KubeObject): InventoryEntry => ({ ref: refOf(o), apiVersion: o.apiVersion });

/** The inventory of an applied change set: every object of the bundle (skipped and failed ones
 * too, so that a later prune never deletes an object still in the bundle). */
export function inventoryFromChangeSet(cs: ChangeSet): InventoryEntry[] {
  return dedupe(cs.entries.map((e) => ({ ref: e.ref, apiVersion: e.apiVersion })));
}

export function dedupe(entries: readonly InventoryEntry[]): InventoryEntry[] {
  const byKey = new Map<string, InventoryEntry>();
  for (const e of entries) byKey.set(refKey(e.ref), e);
  return [...byKey.values()];
}

export function encodeInventory(entries: readonly InventoryEntry[]): string {
  const rows = dedupe(entries).map((e) => ({ ref: refKey(e.ref), apiVersion: e.apiVersion }));
  rows.sort((a, b) => (a.ref < b.ref ? -1 : a.ref > b.ref ? 1 : 0));
  return JSON.stringify(rows);
}

export function decodeInventory(text: string): InventoryEntry[] {
  const rows: unknown = JSON.parse(text);
  if (!Array.isArray(rows)) throw new Error("inventory is not a JSON array");
  return rows.filter(isObject).map((r) => ({ ref: parseRefKey(String(r["ref"])), apiVersion: String(r["apiVersion"]) }));
}

/** The stored inventory; an empty one when the app has none yet. */
export async function readInventory(client: KubeClient, namespace: string, app: string): Promise<KubeResult<InventoryEntry[]>> {
  const r = await client.get({ apiVersion: "v1", kind: "ConfigMap", namespace, name: inventoryName(app) });
  if (!r.ok) return r;
  const data = r.value?.["data"];
  const text = isObject(data) ? data[INVENTORY_DATA_KEY] : undefined;
  if (typeof text !== "string") return ok([]);
  try {
    return ok(decodeInventory(text));
  } catch (err) {
    return fail({ status: 0, reason: "Invalid", message: `ConfigMap ${namespace}/${inventoryName(app)}: unreadable inventory: ${(err as Error).message}` });
  }
}

/** Stores the inventory (creating the namespace when it is missing). */
export async function writeInventory(client: KubeClient, namespace: string, app: string, entries: readonly InventoryEntry[], fieldManager = DEFAULT_FIELD_MANAGER): Promise<KubeResult<void>> {
  const cm: KubeObject = {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: { name: inventoryName(app), namespace, labels: { [Label.App]: app, "flotilla.dev/inventory": "true" } },
    data: { [INVENTORY_DATA_KEY]: encodeInventory(entries) },
  };
  let r = await client.apply(cm, { fieldManager, force: true });
  if (!r.ok && r.failure.status === 404 && r.failure.detailsKind === "namespaces") {
    const ns = await client.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } }, { fieldManager, force: true });
    if (!ns.ok) return ns;
    r = await client.apply(cm, { fieldManager, force: true });
  }
  return r.ok ? ok(undefined) : r;
}
