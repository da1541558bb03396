// Field-manager hygiene. Objects first applied with `kubectl apply` (client-side) are owned by
// `kubectl-client-side-apply` and carry the last-applied-configuration annotation; objects
// applied with `kubectl apply --server-side` are owned by `kubectl`. A forced server-side apply
// takes over conflicting values but leaves those managers co-owning the fields and the
// annotation in place, so removing a field from the bundle would not remove it from the cluster.
// We rewrite managedFields so that their fields belong to our manager, and drop the annotation.
// Pure: returns the JSON patch, or undefined when nothing needs taking over.
import type { KubeObject } from "@flotilla/model";
import { Annotation } from "./conventions.js";
import { clone, escapePointer, isObject, type JsonObject } from "./json.js";

export type JsonPatchOp =
  | { op: "test"; path: string; value: unknown }
  | { op: "replace"; path: string; value: unknown }
  | { op: "remove"; path: string };

export function takeOverPatch(live: KubeObject, fieldManager: string, takeOver: readonly string[], now = new Date()): JsonPatchOp[] | undefined {
  const raw = Array.isArray(live.metadata["managedFields"]) ? (live.metadata["managedFields"] as unknown[]).filter(isObject) : [];
  const isTaken = (e: JsonObject): boolean => typeof e["manager"] === "string" && takeOver.includes(e["manager"]) && !e["subresource"];
  const taken = raw.filter(isTaken);
  const hasLastApplied = live.metadata.annotations?.[Annotation.LastApplied] !== undefined;
  if (taken.length === 0 && !hasLastApplied) return undefined;

  const isOurs = (e: JsonObject): boolean => e["manager"] === fieldManager && e["operation"] === "Apply" && !e["subresource"];
  const ours = raw.filter(isOurs);
  const merged: JsonObject = {};
  for (const e of [...ours, ...taken]) if (isObject(e["fieldsV1"])) mergeFields(merged, e["fieldsV1"]);
  dropLastAppliedField(merged);

  const kept = raw.filter((e) => !isTaken(e) && !isOurs(e));
  const managedFields = Object.keys(merged).length === 0
    ? kept
    : [...kept, { manager: fieldManager, operation: "Apply", apiVersion: live.apiVersion, time: now.toISOString().replace(/\.\d+Z$/, "Z"), fieldsType: "FieldsV1", fieldsV1: merged }];

  const ops: JsonPatchOp[] = [
    { op: "test", path: "/metadata/resourceVersion", value: live.metadata["resourceVersion"] },
    { op: "replace", path: "/metadata/managedFields", value: managedFields },
  ];
  if (hasLastApplied) ops.push({ op: "remove", path: `/metadata/annotations/${escapePointer(Annotation.LastApplied)}` });
  return ops;
}

function mergeFields(into: JsonObject, from: JsonObject): void {
  for (const [k, v] of Object.entries(from)) {
    const existing = into[k];
    if (isObject(existing) && isObject(v)) mergeFields(existing, v);
    else into[k] = isObject(v) ? clone(v) : v;
  }
}

function dropLastAppliedField(fields: JsonObject): void {
  const meta = fields["f:metadata"];
  if (!isObject(meta)) return;
  const ann = meta["f:annotations"];
  if (!isObject(ann)) return;
  delete ann[`f:${Annotation.LastApplied}`];
  if (Object.keys(ann).length === 0) delete meta["f:annotations"];
  if (Object.keys(meta).length === 0) delete fields["f:metadata"];
}
