// Break-glass: an explicit, expiring, audited suspension of drift enforcement for a scope (the
// whole cluster, one app, or one object). The hub keeps the windows and their audit trail; agents
// get the active ones in a hub-signed control record and decide coverage with their own clock.
import type { BreakGlassScope } from "./vocabulary.js";
import { refKey, type ObjectRef } from "./objects.js";

/** What a window covers: everything in the cluster, one app, or one object (optionally of one app). */
export interface BreakGlassScopeSpec {
  kind: BreakGlassScope;
  /** The app (scope `app`); for scope `object` it narrows the object to that app's. */
  app?: string;
  /** The object (scope `object`). */
  object?: ObjectRef;
}

export interface BreakGlassWindow {
  id: string;
  cluster: string;
  scope: BreakGlassScopeSpec;
  reason: string;
  author: string;
  startedAt: string;
  /** Agents stop honouring the window at this instant by their own clock, hub or no hub. */
  expiresAt: string;
  /** Set once the window ended early (DELETE) or expired. */
  endedAt?: string;
  endedBy?: string;
  endReason?: string;
}

/** Per cluster: the active break-glass windows. Published by the hub under `<cluster>.control`. */
export interface ControlRecord {
  cluster: string;
  /** Only ever increases per cluster; agents refuse a record not newer than the one they hold. */
  generation: number;
  issuedAt: string;
  windows: BreakGlassWindow[];
}

export interface SignedControlRecord extends ControlRecord {
  keyId: string;
  /** base64 ed25519 signature over the canonical JSON of the ControlRecord fields. */
  signature: string;
}

/** Audit trail events: every start and end of a window, with who and why. */
export const BreakGlassEvent = {
  Started: "started",
  Ended: "ended",
  Expired: "expired",
} as const;
export type BreakGlassEvent = (typeof BreakGlassEvent)[keyof typeof BreakGlassEvent];

/** True when the window is still open at `nowMs` and its scope covers the object `key` (refKey) of `app`. */
export function windowCovers(w: BreakGlassWindow, app: string, key: string, nowMs: number): boolean {
  if (w.endedAt !== undefined) return false;
  const expires = Date.parse(w.expiresAt);
  if (!(expires > nowMs)) return false;
  switch (w.scope.kind) {
    case "cluster":
      return true;
    case "app":
      return w.scope.app === app;
    case "object":
      return !!w.scope.object && refKey(w.scope.object) === key && (w.scope.app === undefined || w.scope.app === app);
    default:
      return false;
  }
}
