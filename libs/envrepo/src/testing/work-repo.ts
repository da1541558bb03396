// Work repositories for tests and the demo, written with isomorphic-git (no git config needed).
import fs from "node:fs";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import git from "isomorphic-git";
import http from "isomorphic-git/http/node";
import { DEFAULT_AUTHOR, type GitPerson } from "../revert.js";

import type { FileChanges } from "../tree-edit.js";

export type { FileChanges };

export const TEST_AUTHOR: GitPerson = { name: "Test Author", email: "author@example.test" };

/** `git init` + the files + a first commit on `branch` (default main). Returns the commit. */
export async function createWorkRepo(
  dir: string,
  files: FileChanges,
  opts: { branch?: string; message?: string; author?: GitPerson } = {},
): Promise<string> {
  await mkdir(dir, { recursive: true });
  await git.init({ fs, dir, defaultBranch: opts.branch ?? "main" });
  return commitFiles(dir, files, opts.message ?? "Initial env repo", opts.author ?? TEST_AUTHOR);
}

/** Writes (or with `null` deletes) files, stages exactly those, and commits. Returns the commit.
 * Staged in one add and one remove: isomorphic-git rewrites the index on each call, so adding a
 * thousand files one by one took seconds (bench/fleet at 1,000 clusters). */
export async function commitFiles(dir: string, files: FileChanges, message: string, author: GitPerson = TEST_AUTHOR): Promise<string> {
  const added: string[] = [];
  const removed: string[] = [];
  for (const [path, content] of Object.entries(files)) {
    const abs = join(dir, path);
    if (content === null) {
      await rm(abs, { force: true });
      removed.push(path);
    } else {
      await mkdir(dirname(abs), { recursive: true });
      await writeFile(abs, content);
      added.push(path);
    }
  }
  const cache = {};
  if (added.length > 0) await git.add({ fs, dir, filepath: added, cache });
  if (removed.length > 0) await git.remove({ fs, dir, filepath: removed, cache });
  const who = { ...(author ?? DEFAULT_AUTHOR), timestamp: Math.floor(Date.now() / 1000), timezoneOffset: 0 };
  return git.commit({ fs, dir, message, author: who, committer: who, cache });
}

/** Pushes a branch of a work repository over http(s), with a token as Basic auth. */
export async function pushWorkRepo(dir: string, url: string, opts: { token?: string; branch?: string; force?: boolean } = {}): Promise<void> {
  const branch = opts.branch ?? (await git.currentBranch({ fs, dir })) ?? "main";
  const token = opts.token;
  const result = await git.push({
    fs,
    http,
    dir,
    url,
    ref: branch,
    remoteRef: branch,
    force: opts.force ?? false,
    ...(token ? { onAuth: () => ({ username: "x-access-token", password: token }), onAuthFailure: () => ({ cancel: true }) } : {}),
  });
  if (!result.ok) throw new Error(`push of ${branch} to ${url} failed: ${result.error ?? JSON.stringify(result.refs)}`);
}

/** Reads every file under a directory into FileChanges (for seeding a repo from examples/). */
export async function readFilesFrom(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  async function walk(d: string): Promise<void> {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const abs = join(d, e.name);
      if (e.isDirectory()) await walk(abs);
      else if (e.isFile()) out[relative(dir, abs).split("\\").join("/")] = await readFile(abs, "utf8");
    }
  }
  await walk(dir);
  return out;
}
