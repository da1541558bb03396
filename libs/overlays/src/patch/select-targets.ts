// Which objects a patch `target` selects, as kustomize selects them: group, version, kind, name
// and namespace are regular expressions anchored at both ends (a plain name is a regex that
// matches only itself); labelSelector and annotationSelector are Kubernetes label selectors.

import { PatchError } from "./patch-error.js";
import type { KubeObject } from "./kube-object.js";
import { parseLabelSelector } from "./label-selector.js";
import { isClusterScoped } from "../scope.js";

export interface PatchTarget {
  group?: string;
  version?: string;
  kind?: string;
  name?: string;
  namespace?: string;
  labelSelector?: string;
  annotationSelector?: string;
}

/** Names an object had before name prefixes/suffixes or namespaces were applied. */
export interface OriginalId {
  name?: string;
  namespace?: string;
}

function anchored(field: string, pattern: string | undefined): RegExp | undefined {
  if (pattern === undefined || pattern === "") return undefined;
  try {
    return new RegExp(`^(?:${pattern})$`);
  } catch (err) {
    throw new PatchError(`patch target ${field} ${JSON.stringify(pattern)} is not a valid regular expression`, { cause: err });
  }
}

function splitApiVersion(apiVersion: string): { group: string; version: string } {
  const i = apiVersion.indexOf("/");
  return i < 0 ? { group: "", version: apiVersion } : { group: apiVersion.slice(0, i), version: apiVersion.slice(i + 1) };
}

/**
 * Indexes of the objects that `target` selects. An object matches a name (or namespace) by its
 * current value or, when `originals` gives one, by the value it had before prefixes, suffixes and
 * namespace changes, like kustomize. A namespaced object without a namespace is in namespace
 * `default`; a cluster-scoped one is in none, so only a pattern that matches "" (`.*`) selects it.
 */
export function selectTargets(objects: KubeObject[], target: PatchTarget, originals?: ReadonlyArray<OriginalId | undefined>): number[] {
  const group = anchored("group", target.group);
  const version = anchored("version", target.version);
  const kind = anchored("kind", target.kind);
  const name = anchored("name", target.name);
  const namespace = anchored("namespace", target.namespace);
  const labels = parseLabelSelector(target.labelSelector ?? "");
  const annotations = parseLabelSelector(target.annotationSelector ?? "");
  const out: number[] = [];
  objects.forEach((obj, i) => {
    const gv = splitApiVersion(obj.apiVersion);
    if (group && !group.test(gv.group)) return;
    if (version && !version.test(gv.version)) return;
    if (kind && !kind.test(obj.kind)) return;
    const orig = originals?.[i];
    if (name && !name.test(obj.metadata.name) && !(orig?.name !== undefined && name.test(orig.name))) return;
    if (namespace) {
      const effective = (ns: string | undefined) => (isClusterScoped(gv.group, obj.kind) ? "" : ns || "default");
      const ns = effective(obj.metadata.namespace);
      const origNs = orig && "namespace" in orig ? effective(orig.namespace) : undefined;
      if (!namespace.test(ns) && !(origNs !== undefined && namespace.test(origNs))) return;
    }
    if (!labels(obj.metadata.labels ?? {})) return;
    if (!annotations(obj.metadata.annotations ?? {})) return;
    out.push(i);
  });
  return out;
}
