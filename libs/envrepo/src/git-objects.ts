// Reading Git objects in place with isomorphic-git: one shared `cache` object for every call on a
// repository (isomorphic-git keeps parsed packfile indexes in it), trees and blobs memoised by oid.
import fs from "node:fs";
import git from "isomorphic-git";

export interface TreeEntry {
  name: string;
  type: "blob" | "tree" | "commit";
  oid: string;
}

/** Object reader for one git directory. Trees are immutable by oid, so memoising them is safe. */
export class GitObjects {
  /** isomorphic-git's cache object: pass the same one to every call. */
  readonly cache: object = {};
  private readonly trees = new Map<string, TreeEntry[]>();

  constructor(readonly gitdir: string) {}

  async readTree(oid: string): Promise<TreeEntry[]> {
    const hit = this.trees.get(oid);
    if (hit) return hit;
    const { tree } = await git.readTree({ fs, gitdir: this.gitdir, oid, cache: this.cache });
    const entries = tree.map((e) => ({ name: e.path, type: e.type, oid: e.oid }));
    this.trees.set(oid, entries);
    return entries;
  }

  async readBlob(oid: string): Promise<Uint8Array> {
    const { blob } = await git.readBlob({ fs, gitdir: this.gitdir, oid, cache: this.cache });
    return blob;
  }

  async readCommit(oid: string): Promise<{ tree: string; parents: string[]; author: { name: string; email: string; timestamp: number }; message: string }> {
    const { commit } = await git.readCommit({ fs, gitdir: this.gitdir, oid, cache: this.cache });
    return { tree: commit.tree, parents: commit.parent, author: commit.author, message: commit.message };
  }

  /** Forgets memoised trees (they are small; called when the tree memo grows past a bound). */
  trimTrees(max: number): void {
    if (this.trees.size <= max) return;
    this.trees.clear();
  }
}

/** Every path whose blob differs between two trees; equal subtrees (same oid) are skipped whole. */
export async function diffTrees(objects: GitObjects, a: string | undefined, b: string | undefined, prefix = ""): Promise<string[]> {
  if (a === b) return [];
  const left = a ? await objects.readTree(a) : [];
  const right = b ? await objects.readTree(b) : [];
  const byName = new Map<string, [TreeEntry | undefined, TreeEntry | undefined]>();
  for (const e of left) byName.set(e.name, [e, undefined]);
  for (const e of right) byName.set(e.name, [byName.get(e.name)?.[0], e]);
  const out: string[] = [];
  for (const name of [...byName.keys()].sort()) {
    const [l, r] = byName.get(name)!;
    if (l && r && l.oid === r.oid && l.type === r.type) continue;
    const path = prefix + name;
    const lTree = l?.type === "tree" ? l.oid : undefined;
    const rTree = r?.type === "tree" ? r.oid : undefined;
    if (lTree || rTree) out.push(...(await diffTrees(objects, lTree, rTree, `${path}/`)));
    if ((l && l.type !== "tree") || (r && r.type !== "tree")) out.push(path);
  }
  return out;
}
