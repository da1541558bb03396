// One object moving through the build, plus what kustomize remembers about it: every id it has
// had (so references written against old names can be repaired), the prefixes/suffixes applied,
// and generator bookkeeping.
import type { KubeObject } from "@flotilla/model";
import { isClusterScoped } from "./scope.js";

export interface ResId {
  group: string;
  version: string;
  kind: string;
  name: string;
  /** "" when unset. */
  namespace: string;
}

export type GeneratorBehavior = "create" | "merge" | "replace";

export interface Resource {
  obj: KubeObject;
  /** Ids before each rename, oldest first; the current id is not included. */
  prevIds: ResId[];
  prefixes: string[];
  suffixes: string[];
  /** Generated ConfigMap/Secret that gets a content hash appended to its name at the top level. */
  needsHash: boolean;
  behavior?: GeneratorBehavior;
  /** Repo path of the file (or kustomization) it came from, for messages and origin annotations. */
  source: string;
  /** Set on objects a generator made: `source` is then the kustomization that configured it. */
  generatedBy?: "ConfigMapGenerator" | "SecretGenerator";
  /** metadata.name of the generator plugin config that made it (a `generators:` entry). */
  generatorName?: string;
  /**
   * Label/annotation values kustomize set at several places at once. kustomize writes one shared
   * YAML node into all of them, so a later in-place update of the value at one place shows at all
   * of them (e.g. an overlay's metadata-only label updates a selector that a base's commonLabels
   * wrote). Per key: groups of locations (`spec/selector`, ...) that share a value.
   */
  sharedValues: Map<string, Set<string>[]>;
  /** Names of the vars bound to this object (whose objref it matched). */
  refVarNames: string[];
}

export function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const i = apiVersion.indexOf("/");
  return i < 0 ? { group: "", version: apiVersion } : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}

export function curId(r: Resource): ResId {
  const { group, version } = splitApiVersion(r.obj.apiVersion ?? "");
  return { group, version, kind: r.obj.kind, name: r.obj.metadata.name, namespace: r.obj.metadata.namespace ?? "" };
}

export function orgId(r: Resource): ResId {
  return r.prevIds[0] ?? curId(r);
}

/** Every id the resource has had, oldest first, current last. */
export function allIds(r: Resource): ResId[] {
  return [...r.prevIds, curId(r)];
}

export function newResource(obj: KubeObject, source: string): Resource {
  return { obj, prevIds: [], prefixes: [], suffixes: [], needsHash: false, source, sharedValues: new Map(), refVarNames: [] };
}

/** Call before changing name, namespace or kind. */
export function storePreviousId(r: Resource): void {
  r.prevIds.push(curId(r));
}

export function effectiveNamespace(id: ResId): string {
  if (isClusterScoped(id.group, id.kind)) return "_non_namespaceable_";
  return id.namespace === "" || id.namespace === "default" ? "default" : id.namespace;
}

export function sameGvkn(a: ResId, b: ResId): boolean {
  return a.group === b.group && a.version === b.version && a.kind === b.kind && a.name === b.name;
}

export function idEquals(a: ResId, b: ResId): boolean {
  return sameGvkn(a, b) && effectiveNamespace(a) === effectiveNamespace(b);
}

/** A string equal for two ids exactly when `idEquals` holds. */
export function idKey(id: ResId): string {
  return `${id.group}|${id.version}|${id.kind}|${effectiveNamespace(id)}|${id.name}`;
}

export function describeId(id: ResId): string {
  const gv = id.group ? `${id.group}/${id.version}` : id.version;
  return `${id.kind} ${id.namespace ? `${id.namespace}/` : ""}${id.name}${gv ? ` (${gv})` : ""}`;
}

export interface GvkSelector {
  group?: string;
  version?: string;
  kind?: string;
}

/** kustomize's Gvk.IsSelected: empty selector fields are wildcards. */
export function gvkSelected(id: { group: string; version: string; kind: string }, sel: GvkSelector): boolean {
  if (sel.group && sel.group !== id.group) return false;
  if (sel.version && sel.version !== id.version) return false;
  if (sel.kind && sel.kind !== id.kind) return false;
  return true;
}

export function deepClone<T>(v: T): T {
  return structuredClone(v);
}
