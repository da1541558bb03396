// The env repo as the hub sees it: fetch the branch head, then read any commit in place.
// - a local repository (`path`) is read where it is: isomorphic-git has no file:// transport;
// - an http(s) remote (`url`) is cloned once without checkout into `workDir`, then updated with
//   fetch + writeRef (a shallow clone cannot fast-forward).
// Exactly one writer per repository: every fetch of one EnvRepo runs in a queue.
import fs from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import git from "isomorphic-git";
import http from "isomorphic-git/http/node";
import { ErrorCode, FlotillaError } from "@flotilla/model";
import { BlobCache, loadCommitView, type CommitView } from "./commit-view.js";
import { describeGitError, redact } from "./git-errors.js";
import { GitObjects, diffTrees } from "./git-objects.js";

export interface OpenEnvRepoOptions {
  /** http(s) URL of the remote env repo. Exactly one of `url` and `path`. */
  url?: string;
  /** A local repository (work tree or bare), read in place. */
  path?: string;
  /** Branch to follow; default: the remote's default branch, or HEAD of a local repository. */
  branch?: string;
  /** Access token for http(s): sent as Basic auth (username `x-access-token` unless `username`). */
  token?: string;
  username?: string;
  /** Where to keep the clone of an http(s) remote; default: a fresh temporary directory. */
  workDir?: string;
  /** History depth of the clone; default 1 (only the tips the hub resolves). */
  depth?: number;
  /**
   * Every fetch adds a packfile and isomorphic-git has no gc: past this many packs the clone is
   * replaced by a fresh one (default 64).
   */
  maxPacks?: number;
}

export interface CommitInfo {
  revision: string;
  /** `Name <email>` */
  author: string;
  /** Full commit message (trailing newline removed). */
  message: string;
  /** Author time, ISO-8601. */
  time: string;
}

export interface EnvRepo {
  /** URL or path, for messages (never contains the token). */
  readonly source: string;
  /** Fetches the branch and returns its head commit (full SHA). */
  fetch(): Promise<string>;
  commitInfo(revision: string): Promise<CommitInfo>;
  /** A synchronous read-only FileView of one commit (every blob preloaded, shared across commits). */
  view(revision: string): Promise<CommitView>;
  /** Paths of files added, changed or deleted between two commits, sorted. */
  changedPaths(fromRevision: string, toRevision: string): Promise<string[]>;
  /** The git directory read from (the clone's for a remote). */
  gitdir(): Promise<string>;
}

export function openEnvRepo(opts: OpenEnvRepoOptions): EnvRepo {
  if (!!opts.url === !!opts.path) {
    throw new FlotillaError(ErrorCode.ConfigInvalid, "env repo: give exactly one of url (http/https) and path (local repository)");
  }
  if (opts.url && !/^https?:\/\//.test(opts.url)) {
    throw new FlotillaError(ErrorCode.ConfigInvalid, `env repo url "${opts.url}": only http(s) is supported; use path for a local repository`);
  }
  return opts.url ? new RemoteEnvRepo(opts as OpenEnvRepoOptions & { url: string }) : new LocalEnvRepo(opts.path!, opts.branch);
}

abstract class BaseEnvRepo implements EnvRepo {
  abstract readonly source: string;
  private objects: GitObjects | undefined;
  private readonly blobs = new BlobCache();
  private queue: Promise<unknown> = Promise.resolve();

  abstract gitdir(): Promise<string>;
  protected abstract fetchHead(): Promise<string>;

  fetch(): Promise<string> {
    return this.serial(() => this.fetchHead());
  }

  async commitInfo(revision: string): Promise<CommitInfo> {
    const c = await this.readCommit(revision);
    return {
      revision,
      author: `${c.author.name} <${c.author.email}>`,
      message: c.message.replace(/\n+$/, ""),
      time: new Date(c.author.timestamp * 1000).toISOString(),
    };
  }

  async view(revision: string): Promise<CommitView> {
    const objects = await this.gitObjects();
    objects.trimTrees(20_000);
    return this.guard(`reading commit ${revision}`, () => loadCommitView(objects, this.blobs, revision));
  }

  async changedPaths(fromRevision: string, toRevision: string): Promise<string[]> {
    const objects = await this.gitObjects();
    const [a, b] = await Promise.all([this.readCommit(fromRevision), this.readCommit(toRevision)]);
    return diffTrees(objects, a.tree, b.tree);
  }

  /** Drops the object reader (and isomorphic-git's cache) after the git directory was replaced. */
  protected resetObjects(): void {
    this.objects = undefined;
  }

  protected async gitObjects(): Promise<GitObjects> {
    this.objects ??= new GitObjects(await this.gitdir());
    return this.objects;
  }

  private async readCommit(revision: string) {
    const objects = await this.gitObjects();
    return this.guard(`reading commit ${revision}`, () => objects.readCommit(revision));
  }

  protected serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(task, task);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Turns library errors into a RepoUnavailable FlotillaError that names the repo and the step. */
  protected async guard<T>(what: string, task: () => Promise<T>): Promise<T> {
    try {
      return await task();
    } catch (err) {
      if (err instanceof FlotillaError) throw err;
      throw new FlotillaError(ErrorCode.RepoUnavailable, `env repo ${this.source}: ${what}: ${describeGitError(err)}`, { cause: err });
    }
  }
}

class LocalEnvRepo extends BaseEnvRepo {
  readonly source: string;
  private resolvedGitdir: string | undefined;

  constructor(
    private readonly path: string,
    private readonly branch: string | undefined,
  ) {
    super();
    this.source = path;
  }

  async gitdir(): Promise<string> {
    if (this.resolvedGitdir) return this.resolvedGitdir;
    const dotGit = join(this.path, ".git");
    if (isDir(dotGit)) this.resolvedGitdir = dotGit;
    else if (isDir(join(this.path, "objects")) && fs.existsSync(join(this.path, "HEAD"))) this.resolvedGitdir = this.path;
    else throw new FlotillaError(ErrorCode.RepoUnavailable, `env repo ${this.path}: not a git repository (no .git directory, not a bare repository)`);
    return this.resolvedGitdir;
  }

  protected async fetchHead(): Promise<string> {
    const gitdir = await this.gitdir();
    const ref = this.branch ? `refs/heads/${this.branch}` : "HEAD";
    return this.guard(`resolving ${this.branch ? `branch ${this.branch}` : "HEAD"}`, () => git.resolveRef({ fs, gitdir, ref }));
  }
}

class RemoteEnvRepo extends BaseEnvRepo {
  readonly source: string;
  private dir: string | undefined;
  private branch: string | undefined;
  private cloned = false;

  constructor(private readonly opts: OpenEnvRepoOptions & { url: string }) {
    super();
    this.source = redact(opts.url);
    this.branch = opts.branch;
  }

  async gitdir(): Promise<string> {
    return join(await this.workDir(), ".git");
  }

  private async workDir(): Promise<string> {
    this.dir ??= this.opts.workDir ?? (await mkdtemp(join(tmpdir(), "flotilla-envrepo-")));
    return this.dir;
  }

  protected async fetchHead(): Promise<string> {
    const dir = await this.workDir();
    const gitdir = join(dir, ".git");
    const auth = this.authCallbacks();
    const depth = this.opts.depth ?? 1;
    if (packCount(gitdir) > (this.opts.maxPacks ?? 64)) {
      await rm(gitdir, { recursive: true, force: true });
      this.resetObjects();
      this.cloned = false;
    }
    if (!this.cloned && !fs.existsSync(join(gitdir, "HEAD"))) {
      await this.guard(`cloning${this.branch ? ` branch ${this.branch}` : ""}`, () =>
        git.clone({ fs, http, dir, url: this.opts.url, ...(this.branch ? { ref: this.branch } : {}), singleBranch: true, noCheckout: true, noTags: true, depth, ...auth }),
      );
      this.branch ??= (await git.currentBranch({ fs, gitdir })) ?? undefined;
      this.cloned = true;
      return this.guard("resolving the cloned branch", () => git.resolveRef({ fs, gitdir, ref: this.branch ? `refs/heads/${this.branch}` : "HEAD" }));
    }
    this.cloned = true;
    this.branch ??= (await git.currentBranch({ fs, gitdir })) ?? undefined;
    const branch = this.branch;
    if (!branch) throw new FlotillaError(ErrorCode.RepoUnavailable, `env repo ${this.source}: the clone in ${dir} has no current branch; set branch`);
    const result = await this.guard(`fetching branch ${branch}`, () =>
      git.fetch({ fs, http, dir, url: this.opts.url, ref: branch, singleBranch: true, tags: false, depth, ...auth }),
    );
    if (!result.fetchHead) throw new FlotillaError(ErrorCode.RepoUnavailable, `env repo ${this.source}: branch ${branch} not found on the remote`);
    // A shallow clone cannot fast-forward: move the branch to what was fetched.
    await git.writeRef({ fs, gitdir, ref: `refs/heads/${branch}`, value: result.fetchHead, force: true });
    return result.fetchHead;
  }

  private authCallbacks() {
    const token = this.opts.token;
    if (!token) return {};
    const username = this.opts.username ?? "x-access-token";
    return {
      onAuth: () => ({ username, password: token }),
      // A rejected token must fail now with a clear error, not retry forever.
      onAuthFailure: () => ({ cancel: true }),
    };
  }
}

function packCount(gitdir: string): number {
  try {
    return fs.readdirSync(join(gitdir, "objects", "pack")).filter((n) => n.endsWith(".pack")).length;
  } catch {
    return 0;
  }
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}

