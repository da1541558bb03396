// Writing to the env repo (promotion commits, rollbacks by revert): commit on top of the branch
// head and push. isomorphic-git has no cross-process locking, so one EnvRepoWriter is the only
// writer of its clone, and its writes run one at a time. A push that loses a race with another
// pusher (non-fast-forward) is redone on the new head.
import fs from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import git from "isomorphic-git";
import http from "isomorphic-git/http/node";
import { ErrorCode, FlotillaError } from "@flotilla/model";
import { describeGitError, redact } from "./git-errors.js";
import { DEFAULT_AUTHOR, revertCommit, type GitPerson } from "./revert.js";
import { applyChangesToTree, type FileChanges } from "./tree-edit.js";

export interface EnvRepoWriterOptions {
  /** http(s) remote; exactly one of `url` and `path`. */
  url?: string;
  /** A local bare repository (a work tree's checked-out branch is not written behind its back). */
  path?: string;
  branch?: string;
  token?: string;
  username?: string;
  /** Where the writer keeps its clone of `url` (not shared with a reader); default a temp dir. */
  workDir?: string;
  /** Default author of commits. */
  author?: GitPerson;
  /** Attempts when the push loses a race with another pusher (default 3). */
  attempts?: number;
}

/**
 * Asked right before a write becomes visible to others (the push; for a bare repository, the
 * branch update). It throws to refuse the write: nothing is pushed, and the error is the write's.
 * The hub's promotion controller confirms its leader lease here, so a deposed leader pushes nothing.
 */
export type BeforePush = () => Promise<void>;

export interface EnvRepoWriter {
  /** Commits the changes on top of the branch head (and pushes); returns the new revision. */
  commit(changes: FileChanges, message: string, author?: GitPerson, beforePush?: BeforePush): Promise<string>;
  /** Reverts a revision on top of the branch head (and pushes); returns the new revision. */
  revert(revision: string, opts?: { author?: GitPerson; message?: string }): Promise<string>;
  /**
   * The newest commit among the last `depth` of the branch (freshly fetched) whose message
   * matches: how a writer that crashed after a push finds what it already pushed.
   */
  findCommit(matches: (message: string) => boolean, depth?: number): Promise<string | undefined>;
}

export function openEnvRepoWriter(opts: EnvRepoWriterOptions): EnvRepoWriter {
  if (!!opts.url === !!opts.path) throw new FlotillaError(ErrorCode.ConfigInvalid, "env repo writer: give exactly one of url and path");
  const branch = opts.branch ?? "main";
  const ref = `refs/heads/${branch}`;
  const attempts = opts.attempts ?? 3;
  const cache = {};
  let dir: string | undefined;
  let queue: Promise<unknown> = Promise.resolve();

  const auth = opts.token
    ? { onAuth: () => ({ username: opts.username ?? "x-access-token", password: opts.token! }), onAuthFailure: () => ({ cancel: true as const }) }
    : {};

  async function gitdir(): Promise<string> {
    if (opts.path) {
      if (fs.existsSync(join(opts.path, ".git"))) {
        throw new FlotillaError(ErrorCode.ConfigInvalid, `env repo writer: ${opts.path} has a work tree; write to a bare repository or over http(s)`);
      }
      return opts.path;
    }
    dir ??= opts.workDir ?? (await mkdtemp(join(tmpdir(), "flotilla-envrepo-writer-")));
    return join(dir, ".git");
  }

  /** Brings the writer's branch to the remote head (clone on first use). Returns the head. */
  async function sync(): Promise<string> {
    const gd = await gitdir();
    if (opts.url) {
      if (!fs.existsSync(join(gd, "HEAD"))) {
        await git.clone({ fs, http, dir: dir!, url: opts.url, ref: branch, singleBranch: true, noCheckout: true, noTags: true, cache, ...auth });
      } else {
        const r = await git.fetch({ fs, http, gitdir: gd, url: opts.url, ref: branch, singleBranch: true, tags: false, cache, ...auth });
        if (!r.fetchHead) throw new FlotillaError(ErrorCode.RepoUnavailable, `env repo ${opts.url}: branch ${branch} not found`);
        await git.writeRef({ fs, gitdir: gd, ref, value: r.fetchHead, force: true });
      }
      await git.writeRef({ fs, gitdir: gd, ref: "HEAD", value: ref, symbolic: true, force: true });
    }
    return git.resolveRef({ fs, gitdir: gd, ref });
  }

  /** Pushes the branch. A non-fast-forward or a ref the server failed to update is a lost race. */
  async function push(): Promise<{ pushed: true } | { pushed: false; why: string }> {
    if (!opts.url) return { pushed: true };
    try {
      const r = await git.push({ fs, http, gitdir: await gitdir(), url: opts.url, ref: branch, remoteRef: branch, cache, ...auth });
      return r.ok ? { pushed: true } : { pushed: false, why: r.error ?? JSON.stringify(r.refs) };
    } catch (err) {
      const code = (err as { code?: string }).code;
      if (code === "PushRejectedError" || code === "GitPushError") return { pushed: false, why: (err as Error).message };
      throw err;
    }
  }

  /** sync → write → push, redone on a lost race; one write at a time. */
  function write(what: string, make: (gd: string, head: string) => Promise<string>, beforePush?: BeforePush): Promise<string> {
    const run = queue.then(async () => {
      for (let attempt = 1; ; attempt++) {
        const head = await sync();
        // A bare repository's branch moves inside make(): ask before it; over http(s), make()
        // only writes the writer's own clone, so ask between it and the push (the tighter window).
        if (!opts.url) await beforePush?.();
        const revision = await make(await gitdir(), head);
        if (opts.url) await beforePush?.();
        const pushed = await push();
        if (pushed.pushed) return revision;
        if (attempt >= attempts) {
          throw new FlotillaError(ErrorCode.RepoUnavailable, `${what}: push to ${branch} refused ${attempts} times (last: ${pushed.why})`);
        }
      }
    });
    const guarded = run.catch((err: unknown) => {
      if (err instanceof FlotillaError) throw err;
      throw new FlotillaError(ErrorCode.RepoUnavailable, `env repo ${redact(opts.url ?? opts.path ?? "")}: ${what}: ${describeGitError(err)}`, { cause: err });
    });
    queue = guarded.catch(() => undefined);
    return guarded;
  }

  return {
    commit(changes, message, author = opts.author ?? DEFAULT_AUTHOR, beforePush) {
      return write(
        `commit "${message}"`,
        async (gd, head) => {
          const { commit } = await git.readCommit({ fs, gitdir: gd, oid: head, cache });
          const tree = await applyChangesToTree(gd, commit.tree, changes, cache);
          const who = { ...author, timestamp: Math.floor(Date.now() / 1000), timezoneOffset: 0 };
          return git.commit({ fs, gitdir: gd, ref, message, tree, parent: [head], author: who, committer: who, cache });
        },
        beforePush,
      );
    },
    findCommit(matches, depth = 200) {
      return findCommitIn(matches, depth);
    },
    revert(revision, o = {}) {
      return write(`revert ${revision}`, async (gd) => {
        if (opts.url) {
          // A revert needs the reverted commit and its parent: make sure history reaches them.
          await ensureCommit(gd, revision);
        }
        return revertCommit(gd, revision, {
          author: o.author ?? opts.author ?? DEFAULT_AUTHOR,
          ...(o.message ? { message: o.message } : {}),
          updateWorkTree: false,
          cache,
        });
      });
    },
  };

  async function findCommitIn(matches: (message: string) => boolean, depth: number): Promise<string | undefined> {
    const run = queue.then(async () => {
      await sync();
      const log = await git.log({ fs, gitdir: await gitdir(), ref, depth, cache });
      return log.find((entry) => matches(entry.commit.message))?.oid;
    });
    queue = run.catch(() => undefined);
    return run.catch((err: unknown) => {
      if (err instanceof FlotillaError) throw err;
      throw new FlotillaError(ErrorCode.RepoUnavailable, `env repo ${redact(opts.url ?? opts.path ?? "")}: reading history: ${describeGitError(err)}`, { cause: err });
    });
  }

  async function ensureCommit(gd: string, revision: string): Promise<void> {
    try {
      const { commit } = await git.readCommit({ fs, gitdir: gd, oid: revision, cache });
      if (commit.parent[0]) await git.readCommit({ fs, gitdir: gd, oid: commit.parent[0], cache });
    } catch {
      throw new FlotillaError(ErrorCode.NotFound, `cannot revert ${revision}: not in the history of ${branch}`);
    }
  }
}
