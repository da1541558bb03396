// Options of the ResourceManager's verbs: plain objects with named defaults.
import type { KubeObject } from "@flotilla/model";
import { TAKE_OVER_MANAGERS } from "./conventions.js";

export interface Owner {
  app: string;
  cluster: string;
}

export interface ApplyOptions {
  /** Sets the ownership labels flotilla.dev/app and flotilla.dev/cluster on every object. */
  owner?: Owner;
  /** Take over fields other managers set (server-side apply `force`). */
  force: boolean;
  /** On an immutable-field conflict: delete the object, wait until it is gone, create it. */
  recreateOnImmutable: boolean;
  /** Namespace for namespaced objects that name none. */
  defaultNamespace: string;
  /** How long to wait for a CRD to be Established, or a recreated object to be gone. */
  waitTimeoutMs: number;
  /** Field managers whose fields we take over (see take-over.ts). */
  takeOverManagers: readonly string[];
  /** Objects applied at once within one kind of one stage. */
  concurrency: number;
  /**
   * A recent view of the live object (the agent's watch cache), asked before the GET: when it
   * has the object, no GET is made. It may lag the server by a watch event; that only changes
   * the action reported (the apply itself is server-side), and the event that follows is
   * compared again. Undefined answers "not known" (the GET is made).
   */
  liveOf?: (o: KubeObject) => KubeObject | undefined;
  /**
   * True when the object is known to need a write (its manifest differs from the one applied
   * last): the dry-run that decides "unchanged" is skipped and the object applied at once, the
   * action then read from what the server returned. A hint only: an apply that changes nothing
   * makes no write on the server either, and is reported unchanged.
   */
  expectsWrite?: (o: KubeObject) => boolean;
}

export function defaultApplyOptions(): ApplyOptions {
  return {
    force: true,
    recreateOnImmutable: false,
    defaultNamespace: "default",
    waitTimeoutMs: 60_000,
    takeOverManagers: TAKE_OVER_MANAGERS,
    concurrency: 4,
  };
}

export interface PruneOptions {
  /** Objects whose ownership labels name another app or cluster are never pruned. */
  owner: Owner;
  /** How long to wait for deleted objects to be gone before reporting them as pending. */
  waitTimeoutMs: number;
  propagationPolicy: "Background" | "Foreground" | "Orphan";
}

export function defaultPruneOptions(owner: Owner): PruneOptions {
  return { owner, waitTimeoutMs: 60_000, propagationPolicy: "Background" };
}
