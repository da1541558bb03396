// Ignore rules: JSON-pointer paths (optionally for matching objects only) that are neither
// reported nor reverted, e.g. `/spec/replicas` when an HPA owns it.
import type { DriftPath, IgnoreRule, ObjectRef } from "@flotilla/model";

export function ruleMatches(rule: IgnoreRule, ref: ObjectRef): boolean {
  return (
    (rule.kind === undefined || rule.kind === ref.kind) &&
    (rule.group === undefined || rule.group === ref.group) &&
    (rule.name === undefined || rule.name === ref.name) &&
    (rule.namespace === undefined || rule.namespace === ref.namespace)
  );
}

/** The ignored pointers that apply to one object. */
export function ignoredPathsFor(rules: readonly IgnoreRule[], ref: ObjectRef): string[] {
  return rules.filter((r) => ruleMatches(r, ref)).flatMap((r) => r.paths);
}

/** True when `path` is an ignored pointer or lies beneath one. */
export function isIgnored(path: string, ignored: readonly string[]): boolean {
  return ignored.some((p) => path === p || path.startsWith(p.endsWith("/") ? p : `${p}/`));
}

export function filterIgnored(paths: DriftPath[], rules: readonly IgnoreRule[], ref: ObjectRef): DriftPath[] {
  const ignored = ignoredPathsFor(rules, ref);
  return ignored.length === 0 ? paths : paths.filter((p) => !isIgnored(p.path, ignored));
}
