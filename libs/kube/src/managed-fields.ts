// Reading metadata.managedFields: who owns which field, and since when. Pure.
//
// fieldsV1 is a trie: `f:<field>` for a map field, `k:<json>` for an associative-list item by
// its keys, `v:<json>` for a set item by value, `i:<n>` for a list item by index, and `.` for
// "the item itself". An empty object is a leaf. JSON pointers into the live object are matched
// against it by resolving list indexes to the item's keys.
import type { KubeObject } from "@flotilla/model";
import { isObject, jsonEqual, pointerSegments, type JsonObject } from "./json.js";

export interface ManagedFieldsEntry {
  manager: string;
  operation: string;
  apiVersion?: string;
  time?: string;
  subresource?: string;
  fieldsV1: JsonObject;
}

export interface DriftActor {
  manager: string;
  operation: string;
  /** When the manager last changed its fields (managedFields time), ISO-8601. */
  time?: string;
  subresource?: string;
}

export function managedFieldsOf(o: KubeObject): ManagedFieldsEntry[] {
  const raw = o.metadata["managedFields"];
  if (!Array.isArray(raw)) return [];
  return raw.filter(isObject).map((e) => ({
    manager: typeof e["manager"] === "string" ? e["manager"] : "",
    operation: typeof e["operation"] === "string" ? e["operation"] : "",
    ...(typeof e["apiVersion"] === "string" ? { apiVersion: e["apiVersion"] } : {}),
    ...(typeof e["time"] === "string" ? { time: e["time"] } : {}),
    ...(typeof e["subresource"] === "string" && e["subresource"] !== "" ? { subresource: e["subresource"] } : {}),
    fieldsV1: isObject(e["fieldsV1"]) ? e["fieldsV1"] : {},
  }));
}

/** True when the field set owns the field at `pointer` of `live` (or something beneath it, or a
 * leaf above it). */
export function ownsPath(fields: JsonObject, pointer: string, live: unknown): boolean {
  let node: JsonObject = fields;
  let value: unknown = live;
  for (const seg of pointerSegments(pointer)) {
    if (Object.keys(node).length === 0 && node !== fields) return true; // a leaf owns its subtree
    let next: unknown;
    if (Array.isArray(value)) {
      const index = Number(seg);
      const item = value[index];
      next = listItemNode(node, item, index);
      value = item;
    } else {
      next = node[`f:${seg}`];
      value = isObject(value) ? value[seg] : undefined;
    }
    if (!isObject(next)) return false;
    node = next;
  }
  return true;
}

function listItemNode(node: JsonObject, item: unknown, index: number): unknown {
  for (const [k, v] of Object.entries(node)) {
    if (k.startsWith("k:")) {
      const keys = parseJson(k.slice(2));
      if (isObject(keys) && isObject(item) && Object.entries(keys).every(([kk, kv]) => jsonEqual(item[kk], kv))) return v;
    } else if (k.startsWith("v:")) {
      if (jsonEqual(parseJson(k.slice(2)), item)) return v;
    } else if (k === `i:${index}`) {
      return v;
    }
  }
  return undefined;
}

function parseJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

/** The field manager other than ours that owns any of the drifted paths of `live`; the most
 * recent one when several do. Undefined when no other manager owns them (e.g. the change came
 * from a controller that does not track fields). */
export function driftActor(live: KubeObject, paths: readonly string[], ourManager: string): DriftActor | undefined {
  let best: DriftActor | undefined;
  for (const e of managedFieldsOf(live)) {
    if (e.manager === ourManager) continue;
    if (!paths.some((p) => ownsPath(e.fieldsV1, p, live))) continue;
    if (best === undefined || (e.time ?? "") > (best.time ?? "")) {
      best = { manager: e.manager, operation: e.operation, ...(e.time ? { time: e.time } : {}), ...(e.subresource ? { subresource: e.subresource } : {}) };
    }
  }
  return best;
}
