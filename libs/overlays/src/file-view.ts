// Read-only access to the env repo at one commit. The engine reads nothing else: no clock, no
// environment variables, no network.
import { readFileSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

/** Read-only view of a repo at one commit. Paths are POSIX, relative to the repo root, no leading "/". */
export interface FileView {
  readFile(path: string): Uint8Array | undefined;
  /** Entry names; undefined when not a directory. */
  listDir(path: string): string[] | undefined;
}

/** A FileView over a directory on disk (CLI, tests). Symlinks are followed by node:fs. */
export function fsFileView(rootDir: string): FileView {
  const abs = (p: string) => (p === "" || p === "." ? rootDir : join(rootDir, p));
  return {
    readFile(path) {
      try {
        const full = abs(path);
        if (!statSync(full).isFile()) return undefined;
        return readFileSync(full);
      } catch {
        return undefined;
      }
    },
    listDir(path) {
      try {
        const full = abs(path);
        if (!statSync(full).isDirectory()) return undefined;
        return readdirSync(full).sort();
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
