// Read-only access to the env repo at one commit. The engine reads nothing else: no clock, no
// environment variables, no network.
import { readFileSync, readdirSync, realpathSync, statSync } from "node:fs";
import { join, sep } from "node:path";
import { ErrorCode } from "@flotilla/model";
import { OverlayError } from "./errors.js";

/** Read-only view of a repo at one commit. Paths are POSIX, relative to the repo root, no leading "/". */
export interface FileView {
  readFile(path: string): Uint8Array | undefined;
  /** Entry names; undefined when not a directory. */
  listDir(path: string): string[] | undefined;
}

/**
 * A FileView over a directory on disk (CLI, tests). Symlinks are followed only while they stay
 * inside the root: one that leads out of the repository is refused, not read.
 */
export function fsFileView(rootDir: string): FileView {
  let realRoot: string | undefined;
  const inside = (path: string): string | undefined => {
    const full = path === "" || path === "." ? rootDir : join(rootDir, path);
    let real: string;
    try {
      realRoot ??= realpathSync(rootDir);
      real = realpathSync(full);
    } catch {
      return undefined; // missing
    }
    // The root may be "/" itself (the CLI outside any repository): it already ends in the separator.
    if (real !== realRoot && !real.startsWith(realRoot.endsWith(sep) ? realRoot : realRoot + sep)) {
      throw new OverlayError(ErrorCode.PathEscapesRepo, `${path} is a symbolic link that leads out of the repository`, {
        file: path,
      });
    }
    return real;
  };
  return {
    readFile(path) {
      const real = inside(path);
      if (real === undefined) return undefined;
      try {
        if (!statSync(real).isFile()) return undefined;
        return readFileSync(real);
      } catch {
        return undefined;
      }
    },
    listDir(path) {
      const real = inside(path);
      if (real === undefined) return undefined;
      try {
        if (!statSync(real).isDirectory()) return undefined;
        return readdirSync(real).sort();
      } catch {
        return undefined;
      }
    },
  };
}

/** A FileView over an in-memory map of repo path → UTF-8 content. Directories are implied. */
export function memoryFileView(files: Record<string, string>): FileView {
  const enc = new TextEncoder();
  const contents = new Map<string, Uint8Array>();
  const dirs = new Map<string, Set<string>>([["", new Set()]]);
  for (const [rawPath, text] of Object.entries(files)) {
    const path = rawPath.replace(/^\/+/, "");
    contents.set(path, enc.encode(text));
    const parts = path.split("/");
    for (let i = 0; i < parts.length; i++) {
      const dir = parts.slice(0, i).join("/");
      let entries = dirs.get(dir);
      if (!entries) dirs.set(dir, (entries = new Set()));
      entries.add(parts[i] as string);
    }
  }
  const norm = (p: string) => (p === "." ? "" : p.replace(/\/+$/, ""));
  return {
    readFile: (path) => contents.get(norm(path)),
    listDir: (path) => {
      const entries = dirs.get(norm(path));
      return entries ? [...entries].sort() : undefined;
    },
  };
}
