// Addressing one object on the API server.
import type { KubeObject, ObjectRef } from "@flotilla/model";
import { groupOf } from "@flotilla/model";
import type { ResourceInfo } from "./discovery.js";

/** Enough to address one object: its apiVersion, kind, namespace (if namespaced) and name. */
export interface ObjectTarget {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}

export function targetOf(o: KubeObject): ObjectTarget {
  return {
    apiVersion: o.apiVersion,
    kind: o.kind,
    name: o.metadata.name,
    ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}),
  };
}

/** Anything that names one object: a target, a whole object, or a version-less ObjectRef (the
 * client resolves its group's preferred version). */
export type ObjectAddress = ObjectTarget | KubeObject | ObjectRef;

/** Accepts either a target or a whole object (whose metadata names it). */
export function toTarget(t: ObjectTarget | KubeObject): ObjectTarget {
  return isKubeObject(t) ? targetOf(t) : t;
}

export function isObjectRef(t: ObjectAddress): t is ObjectRef {
  return !("apiVersion" in t) && "group" in t;
}

function isKubeObject(t: ObjectTarget | KubeObject): t is KubeObject {
  const meta = (t as { metadata?: unknown }).metadata;
  return typeof meta === "object" && meta !== null;
}

export function refOfTarget(t: ObjectTarget): ObjectRef {
  return { group: groupOf(t.apiVersion), kind: t.kind, namespace: t.namespace ?? "", name: t.name };
}

/** `/apis/apps/v1/namespaces/shop/deployments[/name]`. */
export function collectionPath(info: ResourceInfo, namespace: string | undefined): string {
  const base = info.group === "" ? `/api/${info.version}` : `/apis/${info.group}/${info.version}`;
  const ns = info.namespaced && namespace ? `/namespaces/${encodeURIComponent(namespace)}` : "";
  return `${base}${ns}/${info.plural}`;
}

export function objectPath(info: ResourceInfo, namespace: string | undefined, name: string): string {
  return `${collectionPath(info, namespace)}/${encodeURIComponent(name)}`;
}
