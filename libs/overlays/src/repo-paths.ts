// POSIX path arithmetic inside the repo. Every path the engine touches goes through `resolveInRepo`,
// which refuses anything that would leave the repo root.
import { ErrorCode } from "@flotilla/model";
import { OverlayError } from "./errors.js";

/** Normalises `a/./b/../c` → `a/c`; returns undefined when the path climbs above the root. */
export function normalize(path: string): string | undefined {
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (out.length === 0) return undefined;
      out.pop();
    } else out.push(part);
  }
  return out.join("/");
}

export function joinPath(dir: string, rel: string): string {
  return dir === "" ? rel : `${dir}/${rel}`;
}

export function dirname(path: string): string {
  const i = path.lastIndexOf("/");
  return i < 0 ? "" : path.slice(0, i);
}

export function basename(path: string): string {
  const i = path.lastIndexOf("/");
  return i < 0 ? path : path.slice(i + 1);
}

/** The path of repo path `to` relative to directory `from` (`../base/cm.yaml`). */
export function relativePath(from: string, to: string): string {
  const a = from === "" ? [] : from.split("/");
  const b = to === "" ? [] : to.split("/");
  let common = 0;
  while (common < a.length && common < b.length && a[common] === b[common]) common++;
  return [...a.slice(common).map(() => ".."), ...b.slice(common)].join("/") || ".";
}

/** Resolves `rel` (as written in `file`, which lives in `dir`) to a repo path, or throws. */
export function resolveInRepo(dir: string, rel: string, file: string, field: string): string {
  if (rel.startsWith("/")) {
    throw new OverlayError(
      ErrorCode.PathEscapesRepo,
      `absolute path "${rel}" is not allowed; use a path relative to the kustomization`,
      { file, field },
    );
  }
  const resolved = normalize(joinPath(dir, rel));
  if (resolved === undefined) {
    throw new OverlayError(ErrorCode.PathEscapesRepo, `path "${rel}" escapes the repository root`, { file, field });
  }
  return resolved;
}

/**
 * Resolves a file `rel` (resource file, patch file, generator source) of the kustomization in
 * `dir`: like kustomize's default load restrictor, files must be in or below that directory
 * (directories of other kustomizations may be anywhere in the repo).
 */
export function resolveFileInKustomization(dir: string, rel: string, file: string, field: string): string {
  const path = resolveInRepo(dir, rel, file, field);
  if (dir !== "" && path !== dir && !path.startsWith(`${dir}/`)) {
    throw new OverlayError(
      ErrorCode.RenderFailed,
      `file "${rel}" is not in or below the kustomization directory "${dir}"; make it a resource of a kustomization there, or move it`,
      { file, field },
    );
  }
  return path;
}

/** Remote bases (git URLs, http archives) are refused: a render reads one commit of one repo. */
export function looksRemote(entry: string): boolean {
  return (
    /^[a-z][a-z0-9+.-]*:\/\//i.test(entry) ||
    /^git@/.test(entry) ||
    /[?&](ref|version|submodules|timeout)=/.test(entry) ||
    /^(github\.com|gitlab\.com|bitbucket\.org)\//.test(entry)
  );
}
