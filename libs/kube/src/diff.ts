// diffLive: which fields the desired object sets differ in the live object. Pure.
//
// Only fields present in the desired object are compared, so values the API server or other
// controllers add (defaults, status, annotations of others) are never drift. For exact results
// pass `baseline`: the object as the server returned it right after our apply (or its dry-run).
// Expected values are then read from the baseline, which carries the server's normalisation
// (`cpu: 1000m` → `1`), while the set of compared fields still comes from the desired object.
import type { DriftPath, IgnoreRule, KubeObject } from "@flotilla/model";
import { refOf } from "@flotilla/model";
import { filterIgnored } from "./ignore.js";
import { isObject, joinPointer, jsonEqual, type JsonObject } from "./json.js";
import { isSecret, maskDriftPaths } from "./mask.js";

export interface DiffOptions {
  /** The applied (or dry-run) object: expected values are read from it where it has them. */
  baseline?: KubeObject;
  /** Paths neither reported nor reverted. */
  ignore?: readonly IgnoreRule[];
}

/** Keys that identify items of Kubernetes associative lists, in order of preference. */
const listKeys = ["name", "containerPort", "port", "mountPath", "devicePath", "ip", "topologyKey", "type"];

/** Top-level fields that are never drift: identity, server bookkeeping and status. */
const skippedTopLevel = new Set(["apiVersion", "kind", "status"]);
const comparedMetadata = ["labels", "annotations"];

export function diffLive(desired: KubeObject, live: KubeObject, opts: DiffOptions = {}): DriftPath[] {
  const want = normalizeSecret(desired);
  const out: DriftPath[] = [];
  for (const [key, value] of Object.entries(want)) {
    if (skippedTopLevel.has(key)) continue;
    if (key === "metadata") {
      for (const m of comparedMetadata) {
        const dm = want.metadata[m];
        if (dm !== undefined) walk(dm, field(live.metadata, m), field(opts.baseline?.metadata, m), `/metadata/${m}`, out);
      }
      continue;
    }
    walk(value, field(live, key), field(opts.baseline, key), joinPointer("", key), out);
  }
  const filtered = opts.ignore ? filterIgnored(out, opts.ignore, refOf(desired)) : out;
  return maskDriftPaths(desired, filtered);
}

function field(o: unknown, key: string): unknown {
  return isObject(o) ? o[key] : undefined;
}

/** Values a manifest may carry that the server stores as "absent": `null`
 * (`creationTimestamp: null` in generated manifests), `[]`, and objects holding nothing else. */
function isEmptyValue(v: unknown): boolean {
  return v === null || v === undefined || (Array.isArray(v) && v.length === 0) || (isObject(v) && Object.values(v).every(isEmptyValue));
}

function walk(desired: unknown, live: unknown, baseline: unknown, path: string, out: DriftPath[]): void {
  if (desired === null) return; // "unset" in a manifest: nothing to own, nothing to compare
  if (isEmptyValue(desired) && isEmptyValue(live)) return;
  if (isObject(desired)) {
    if (!isObject(live)) {
      out.push({ path, desired: baseline ?? desired, live });
      return;
    }
    for (const [k, v] of Object.entries(desired)) walk(v, live[k], field(baseline, k), joinPointer(path, k), out);
    return;
  }
  if (Array.isArray(desired)) {
    walkList(desired, live, baseline, path, out);
    return;
  }
  const expected = baseline !== undefined ? baseline : desired;
  if (!jsonEqual(expected, live)) out.push({ path, desired: expected, live });
}

function walkList(desired: unknown[], live: unknown, baseline: unknown, path: string, out: DriftPath[]): void {
  const expectedWhole = Array.isArray(baseline) ? baseline : desired;
  if (!Array.isArray(live)) {
    out.push({ path, desired: expectedWhole, live });
    return;
  }
  const key = listKeyOf(desired);
  if (key === undefined) {
    // Scalar lists and lists without a merge key are atomic: compare them whole.
    if (desired.every((d) => !isObject(d)) || desired.length !== live.length) {
      if (!jsonEqual(expectedWhole, live)) out.push({ path, desired: expectedWhole, live });
      return;
    }
    desired.forEach((d, i) => walk(d, live[i], Array.isArray(baseline) ? baseline[i] : undefined, joinPointer(path, i), out));
    return;
  }
  const find = (list: unknown, id: unknown): [number, JsonObject | undefined] => {
    if (!Array.isArray(list)) return [-1, undefined];
    const i = list.findIndex((x) => isObject(x) && jsonEqual(x[key], id));
    return [i, i < 0 ? undefined : (list[i] as JsonObject)];
  };
  desired.forEach((d, di) => {
    const id = (d as JsonObject)[key];
    const [li, liveItem] = find(live, id);
    const [, baseItem] = find(baseline, id);
    if (liveItem === undefined) {
      out.push({ path: joinPointer(path, di), desired: baseItem ?? d, live: undefined });
      return;
    }
    walk(d, liveItem, baseItem, joinPointer(path, li), out);
  });
}

/** The merge key shared by every item, if the items are objects that all carry a unique one. */
function listKeyOf(items: unknown[]): string | undefined {
  if (items.length === 0 || !items.every(isObject)) return undefined;
  const objects = items as JsonObject[];
  return listKeys.find((k) => {
    const ids = objects.map((o) => o[k]);
    return ids.every((id) => id !== undefined) && new Set(ids.map((id) => JSON.stringify(id))).size === ids.length;
  });
}

/** `stringData` is write-only: the server merges it into `data` (base64). Compare it there. */
function normalizeSecret(o: KubeObject): KubeObject {
  if (!isSecret(o) || !isObject(o["stringData"])) return o;
  const data: JsonObject = isObject(o["data"]) ? { ...o["data"] } : {};
  for (const [k, v] of Object.entries(o["stringData"])) {
    if (typeof v === "string") data[k] = Buffer.from(v, "utf8").toString("base64");
  }
  const { stringData: _dropped, ...rest } = o;
  return { ...rest, data } as KubeObject;
}
