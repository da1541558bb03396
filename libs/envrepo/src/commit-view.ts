// A FileView of one commit, read straight from Git objects (no checkout). FileView is synchronous,
// so the whole tree and every blob of the commit are read up front; blobs are shared by oid with
// the previous views, so a new commit costs only the blobs it changed.
import { normalizeRepoPath, type FileView } from "./file-view.js";
import type { GitObjects, TreeEntry } from "./git-objects.js";

export interface CommitView extends FileView {
  /** The commit this view shows. */
  readonly revision: string;
  /** Every file path in the commit, sorted. */
  paths(): string[];
}

interface Dir {
  entries: Map<string, Dir | Uint8Array>;
}

/** Blobs of recent views, by oid. Older generations are dropped so memory stays ~ a few commits. */
export class BlobCache {
  private generations: Map<string, Uint8Array>[] = [];
  constructor(private readonly keep = 3) {}

  get(oid: string): Uint8Array | undefined {
    for (const g of this.generations) {
      const hit = g.get(oid);
      if (hit) return hit;
    }
    return undefined;
  }

  /** Records the blobs one view uses as the newest generation. */
  remember(blobs: Map<string, Uint8Array>): void {
    this.generations.unshift(blobs);
    this.generations.length = Math.min(this.generations.length, this.keep);
  }
}

export async function loadCommitView(objects: GitObjects, blobs: BlobCache, revision: string): Promise<CommitView> {
  const { tree } = await objects.readCommit(revision);
  const used = new Map<string, Uint8Array>();
  const files: string[] = [];
  // Bounded parallel reads: a large repo must not open thousands of files at once.
  const limit = limiter(16);

  async function loadDir(treeOid: string, prefix: string): Promise<Dir> {
    const entries = await objects.readTree(treeOid);
    const dir: Dir = { entries: new Map() };
    await Promise.all(
      entries.map(async (e: TreeEntry) => {
        if (e.type === "tree") dir.entries.set(e.name, await loadDir(e.oid, `${prefix}${e.name}/`));
        else if (e.type === "blob") {
          let blob = used.get(e.oid) ?? blobs.get(e.oid);
          if (!blob) blob = await limit(() => objects.readBlob(e.oid));
          used.set(e.oid, blob);
          dir.entries.set(e.name, blob);
          files.push(prefix + e.name);
        }
        // type "commit" is a submodule: its content is not in this repository.
      }),
    );
    return dir;
  }

  const root = await loadDir(tree, "");
  blobs.remember(used);
  files.sort();

  // Every path of the commit, normalised, → its node: the renderers look up the same few paths
  // tens of thousands of times per fleet render, so lookups are one Map get.
  const nodes = new Map<string, Dir | Uint8Array>([["", root]]);
  const listings = new Map<Dir, string[]>();
  (function index(dir: Dir, prefix: string): void {
    listings.set(dir, [...dir.entries.keys()].sort());
    for (const [name, node] of dir.entries) {
      nodes.set(prefix + name, node);
      if (!(node instanceof Uint8Array)) index(node, `${prefix}${name}/`);
    }
  })(root, "");

  function lookup(path: string): Dir | Uint8Array | undefined {
    const hit = nodes.get(path);
    if (hit) return hit;
    const norm = normalizeRepoPath(path);
    return norm === undefined ? undefined : nodes.get(norm);
  }

  return {
    revision,
    paths: () => [...files],
    readFile(path) {
      const node = lookup(path);
      return node instanceof Uint8Array ? node : undefined;
    },
    listDir(path) {
      const node = lookup(path);
      return node && !(node instanceof Uint8Array) ? [...listings.get(node)!] : undefined;
    },
  };
}

function limiter(max: number): <T>(task: () => Promise<T>) => Promise<T> {
  let running = 0;
  const waiting: (() => void)[] = [];
  return async (task) => {
    // A finishing task hands its slot straight to the next waiter, so `running` never exceeds max.
    if (running >= max) await new Promise<void>((resolve) => waiting.push(resolve));
    else running++;
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else running--;
    }
  };
}
