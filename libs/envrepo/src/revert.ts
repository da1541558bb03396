// `git revert` with isomorphic-git, which has none: write the inverse commit (the reverted
// commit's parent tree, on top of the reverted commit), then cherry-pick it onto HEAD — a real
// three-way merge, so later commits touching other files survive and true conflicts are refused.
// Exactly one writer per repository: callers serialise reverts with their other writes.
import fs from "node:fs";
import { join } from "node:path";
import git from "isomorphic-git";
import { ErrorCode, FlotillaError } from "@flotilla/model";
import { GitObjects, diffTrees } from "./git-objects.js";

export interface GitPerson {
  name: string;
  email: string;
}

export interface RevertOptions {
  /** Author and committer of the revert; default Flotilla <flotilla@localhost>. */
  author?: GitPerson;
  /** Commit message; default `Revert "<subject>"` + `This reverts commit <sha>.` like git. */
  message?: string;
  /**
   * Update the files of the work tree too (default true when `dir` has a checkout). A noCheckout
   * clone or a bare repository must pass false: only the branch moves.
   */
  updateWorkTree?: boolean;
  cache?: object;
}

export const DEFAULT_AUTHOR: GitPerson = { name: "Flotilla", email: "flotilla@localhost" };

/** Reverts `revision` on the current branch of the repository at `dir`; returns the new commit. */
export async function revertCommit(dir: string, revision: string, opts: RevertOptions = {}): Promise<string> {
  const gitdir = fs.existsSync(join(dir, ".git")) ? join(dir, ".git") : dir;
  const cache = opts.cache ?? {};
  const author = { ...(opts.author ?? DEFAULT_AUTHOR), timestamp: Math.floor(Date.now() / 1000), timezoneOffset: 0 };
  const { commit } = await git.readCommit({ fs, gitdir, oid: revision, cache }).catch((err: unknown) => {
    throw new FlotillaError(ErrorCode.NotFound, `cannot revert ${revision}: no such commit in ${dir}`, { cause: err });
  });
  if (commit.parent.length !== 1) {
    const why = commit.parent.length === 0 ? "it is the first commit" : "it is a merge commit";
    throw new FlotillaError(ErrorCode.BadRequest, `cannot revert ${revision.slice(0, 12)}: ${why}`);
  }
  const { commit: parent } = await git.readCommit({ fs, gitdir, oid: commit.parent[0]!, cache });
  const subject = commit.message.split("\n")[0] ?? "";
  const message = opts.message ?? `Revert "${subject}"\n\nThis reverts commit ${revision}.\n`;

  // The inverse commit is not on any branch: it only feeds the cherry-pick below.
  const inverse = await git.commit({ fs, gitdir, message, tree: parent.tree, parent: [revision], author, committer: author, noUpdateBranch: true, cache });
  const withWorkTree = opts.updateWorkTree ?? gitdir !== dir;
  try {
    const picked = await git.cherryPick({ fs, gitdir, ...(withWorkTree ? { dir } : {}), oid: inverse, committer: author, cache });
    if (withWorkTree) await dropDeletedFromIndex(dir, gitdir, commit.tree, parent.tree, cache);
    return picked;
  } catch (err) {
    const e = err as { code?: string; data?: { filepaths?: string[] } };
    if (e.code === "MergeConflictError") {
      throw new FlotillaError(ErrorCode.BadRequest, `cannot revert ${revision.slice(0, 12)}: later commits changed the same lines in ${(e.data?.filepaths ?? []).join(", ")}; revert by hand`, {
        cause: err,
      });
    }
    throw err;
  }
}

/**
 * isomorphic-git 1.44's cherryPick removes a deleted file from the work tree but leaves it in the
 * index (it shows as staged). Drop such entries so the work tree is clean, like after `git revert`.
 */
async function dropDeletedFromIndex(dir: string, gitdir: string, fromTree: string, toTree: string, cache: object): Promise<void> {
  const filepaths = await diffTrees(new GitObjects(gitdir), fromTree, toTree);
  if (filepaths.length === 0) return;
  const rows = await git.statusMatrix({ fs, dir, gitdir, filepaths, cache });
  for (const [filepath, head, workdir, stage] of rows) {
    if (head === 0 && workdir === 0 && stage !== 0) await git.remove({ fs, dir, gitdir, filepath, cache });
  }
}
