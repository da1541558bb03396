// Builds a new tree from a base tree and file changes, writing only the objects that change —
// commits without a work tree (the hub's clone has none).
import fs from "node:fs";
import git, { type TreeEntry } from "isomorphic-git";
import { normalizeRepoPath } from "./file-view.js";

/** Repo path → new content; `null` deletes the file. */
export type FileChanges = Record<string, string | Uint8Array | null>;

/** Returns the oid of the tree `baseTree` + `changes` (undefined base = empty tree). */
export async function applyChangesToTree(gitdir: string, baseTree: string | undefined, changes: FileChanges, cache: object = {}): Promise<string> {
  const byPath = new Map<string, Uint8Array | null>();
  const enc = new TextEncoder();
  for (const [raw, content] of Object.entries(changes)) {
    const path = normalizeRepoPath(raw);
    if (!path) throw new Error(`invalid repo path "${raw}"`);
    byPath.set(path, typeof content === "string" ? enc.encode(content) : content);
  }
  return (await edit(gitdir, baseTree, byPath, cache)) ?? (await git.writeTree({ fs, gitdir, tree: [] }));
}

/** Returns the new tree oid, or undefined when the tree ends up empty (git stores no empty trees). */
async function edit(gitdir: string, treeOid: string | undefined, changes: Map<string, Uint8Array | null>, cache: object): Promise<string | undefined> {
  const entries = new Map<string, TreeEntry>();
  if (treeOid) for (const e of (await git.readTree({ fs, gitdir, oid: treeOid, cache })).tree) entries.set(e.path, e);

  const here = new Map<string, Uint8Array | null>();
  const below = new Map<string, Map<string, Uint8Array | null>>();
  for (const [path, content] of changes) {
    const i = path.indexOf("/");
    if (i < 0) here.set(path, content);
    else {
      const head = path.slice(0, i);
      let sub = below.get(head);
      if (!sub) below.set(head, (sub = new Map()));
      sub.set(path.slice(i + 1), content);
    }
  }
  for (const [name, content] of here) {
    if (content === null) entries.delete(name);
    else {
      const oid = await git.writeBlob({ fs, gitdir, blob: content });
      const mode = entries.get(name)?.type === "blob" ? entries.get(name)!.mode : "100644";
      entries.set(name, { mode, path: name, oid, type: "blob" });
    }
  }
  for (const [name, sub] of below) {
    const existing = entries.get(name);
    const oid = await edit(gitdir, existing?.type === "tree" ? existing.oid : undefined, sub, cache);
    if (oid) entries.set(name, { mode: "040000", path: name, oid, type: "tree" });
    else entries.delete(name);
  }
  if (entries.size === 0) return undefined;
  return git.writeTree({ fs, gitdir, tree: [...entries.values()] });
}
