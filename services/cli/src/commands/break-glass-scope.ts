// What `flotilla break-glass open` sends: the scope from --app / --object (none: the whole
// cluster) and the expiry from --duration or --until, checked here so a mistake names the flag.
import { parseDuration } from "@flotilla/envrepo";
import type { BreakGlassScopeSpec, ObjectRef } from "@flotilla/model";
import { UsageError } from "../args.js";

export const MAX_WINDOW_SECONDS = 86_400;

/**
 * `--object` as `Kind[.group]/namespace/name`, `Kind[.group]/name` (cluster-scoped) or the
 * API's own order `group/Kind/namespace/name` (`/ConfigMap/shop/cfg` for the core group).
 */
export function parseObjectRef(value: string, command: string): ObjectRef {
  const parts = value.split("/");
  const bad = () =>
    new UsageError(
      `flotilla ${command}: --object "${value}": give Kind[.group]/namespace/name (Deployment.apps/shop/web), Kind[.group]/name for a cluster-scoped object, or group/Kind/namespace/name`,
    );
  if (parts.length === 4) {
    const [group, kind, namespace, name] = parts as [string, string, string, string];
    if (!kind || !name) throw bad();
    return { group, kind, namespace, name };
  }
  if (parts.length !== 2 && parts.length !== 3) throw bad();
  const [kindGroup, ...rest] = parts as [string, ...string[]];
  const dot = kindGroup.indexOf(".");
  const kind = dot < 0 ? kindGroup : kindGroup.slice(0, dot);
  const group = dot < 0 ? "" : kindGroup.slice(dot + 1);
  const name = rest[rest.length - 1]!;
  const namespace = rest.length === 2 ? rest[0]! : "";
  if (!kind || !name || (rest.length === 2 && !namespace) || (dot >= 0 && !group)) throw bad();
  return { group, kind, namespace, name };
}

export function scopeOf(app: string | undefined, object: string | undefined, command: string): BreakGlassScopeSpec {
  if (object !== undefined) return { kind: "object", object: parseObjectRef(object, command), ...(app !== undefined ? { app } : {}) };
  if (app !== undefined) return { kind: "app", app };
  return { kind: "cluster" };
}

/** `{ttlSeconds}` from --duration, `{expiresAt}` from --until: exactly one of them. */
export function expiryOf(duration: string | undefined, until: string | undefined, command: string): { ttlSeconds: number } | { expiresAt: string } {
  if ((duration === undefined) === (until === undefined)) {
    throw new UsageError(`flotilla ${command}: give --duration (such as 30m, at most 24h) or --until (an ISO-8601 time with a zone), exactly one`);
  }
  if (until !== undefined) return { expiresAt: until };
  const ms = parseDuration(duration!);
  if (ms === undefined) throw new UsageError(`flotilla ${command}: --duration "${duration}" is not a duration with a unit, such as 30m, 1h30m or 90s`);
  if (ms % 1000 !== 0 || ms < 1000) throw new UsageError(`flotilla ${command}: --duration "${duration}" must be whole seconds, at least 1s`);
  if (ms / 1000 > MAX_WINDOW_SECONDS) throw new UsageError(`flotilla ${command}: --duration "${duration}" is longer than 24h; break-glass windows are short by design (open a new one to go on)`);
  return { ttlSeconds: ms / 1000 };
}

export function scopeText(s: BreakGlassScopeSpec): string {
  if (s.kind === "cluster") return "cluster";
  if (s.kind === "app" || !s.object) return `app ${s.app ?? "?"}`;
  const o = s.object;
  const kind = o.group ? `${o.kind}.${o.group}` : o.kind;
  return `${kind}/${o.namespace ? `${o.namespace}/` : ""}${o.name}${s.app ? ` (app ${s.app})` : ""}`;
}
