// A read-only, synchronous view of the env repo's files at one commit. Renderers (the overlay
// engine, the plain-manifest reader) only ever see this interface, never Git. It is structurally
// identical to the FileView that @flotilla/overlays declares, so one value satisfies both.

export interface FileView {
  /** File content at a repo-relative path (`apps/shop/base/kustomization.yaml`), or undefined.
   *  The bytes may be shared with other views: read them, never modify them. */
  readFile(path: string): Uint8Array | undefined;
  /** Entry names (files and directories, sorted) of a directory, or undefined when it is none. */
  listDir(path: string): string[] | undefined;
}

/**
 * Normalises a repo-relative path: no leading `./` or `/`, no empty or `.` segments. Returns
 * undefined when the path climbs out of the repo with `..`.
 */
export function normalizeRepoPath(path: string): string | undefined {
  const out: string[] = [];
  for (const seg of path.split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") {
      if (out.length === 0) return undefined;
      out.pop();
      continue;
    }
    out.push(seg);
  }
  return out.join("/");
}

/** An in-memory FileView over `path → content`; handy in tests and for renderers' fixtures. */
export function fileViewOf(files: Record<string, string | Uint8Array>): FileView {
  const enc = new TextEncoder();
  const blobs = new Map<string, Uint8Array>();
  const dirs = new Map<string, Set<string>>([["", new Set()]]);
  for (const [raw, content] of Object.entries(files)) {
    const path = normalizeRepoPath(raw);
    if (!path) continue;
    blobs.set(path, typeof content === "string" ? enc.encode(content) : content);
    const segs = path.split("/");
    for (let i = 0; i < segs.length; i++) {
      const dir = segs.slice(0, i).join("/");
      let set = dirs.get(dir);
      if (!set) dirs.set(dir, (set = new Set()));
      set.add(segs[i]!);
    }
  }
  return {
    readFile: (p) => {
      const n = normalizeRepoPath(p);
      return n === undefined ? undefined : blobs.get(n);
    },
    listDir: (p) => {
      const n = normalizeRepoPath(p);
      const set = n === undefined ? undefined : dirs.get(n);
      return set ? [...set].sort() : undefined;
    },
  };
}
