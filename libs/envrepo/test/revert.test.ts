import fs from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import git from "isomorphic-git";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ErrorCode } from "@flotilla/model";
import { openEnvRepo, revertCommit } from "@flotilla/envrepo";
import { commitFiles, createWorkRepo } from "@flotilla/envrepo/testing";

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "envrepo-revert-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("revertCommit", () => {
  it("undoes one commit's changes and keeps later commits to other files", async () => {
    await createWorkRepo(dir, { "apps/shop/deploy.yaml": "image: nginx:1.26\n", "apps/web/deploy.yaml": "image: httpd:2.4\n" });
    const bad = await commitFiles(dir, { "apps/shop/deploy.yaml": "image: nginx:1.27\n", "apps/shop/extra.yaml": "x: 1\n" }, "Bump shop to 1.27");
    const later = await commitFiles(dir, { "apps/web/deploy.yaml": "image: httpd:2.5\n" }, "Bump web");

    const reverted = await revertCommit(dir, bad, { author: { name: "Rollback Bot", email: "bot@example.test" } });

    const { commit } = await git.readCommit({ fs, dir, oid: reverted });
    expect(commit.parent).toEqual([later]);
    expect(commit.message).toBe(`Revert "Bump shop to 1.27"\n\nThis reverts commit ${bad}.\n`);
    expect(commit.author.name).toBe("Rollback Bot");
    expect(await git.resolveRef({ fs, dir, ref: "main" })).toBe(reverted);

    const view = await openEnvRepo({ path: dir }).view(reverted);
    const text = (p: string) => new TextDecoder().decode(view.readFile(p));
    expect(text("apps/shop/deploy.yaml")).toBe("image: nginx:1.26\n");
    expect(view.readFile("apps/shop/extra.yaml")).toBeUndefined();
    expect(text("apps/web/deploy.yaml")).toBe("image: httpd:2.5\n");
    // The work tree follows, and nothing is left staged.
    expect(await readFile(join(dir, "apps/shop/deploy.yaml"), "utf8")).toBe("image: nginx:1.26\n");
    const dirty = (await git.statusMatrix({ fs, dir })).filter(([, head, work, stage]) => !(head === 1 && work === 1 && stage === 1));
    expect(dirty).toEqual([]);
  });

  it("refuses a revert that conflicts with a later change, leaving the branch as it was", async () => {
    await createWorkRepo(dir, { "apps/shop/deploy.yaml": "image: nginx:1.26\n" });
    const bad = await commitFiles(dir, { "apps/shop/deploy.yaml": "image: nginx:1.27\n" }, "Bump to 1.27");
    const later = await commitFiles(dir, { "apps/shop/deploy.yaml": "image: nginx:1.28\n" }, "Bump to 1.28");
    await expect(revertCommit(dir, bad)).rejects.toMatchObject({
      code: ErrorCode.BadRequest,
      message: expect.stringMatching(/later commits changed the same lines in apps\/shop\/deploy\.yaml/),
    });
    expect(await git.resolveRef({ fs, dir, ref: "main" })).toBe(later);
  });

  it("works in a repository without a work tree (a bare or noCheckout clone)", async () => {
    const work = join(dir, "work");
    await createWorkRepo(work, { "a.yaml": "a: 1\n" });
    const bad = await commitFiles(work, { "a.yaml": "a: 2\n" }, "Change a");
    const gitdir = join(work, ".git");
    const reverted = await revertCommit(gitdir, bad, { updateWorkTree: false });
    const view = await openEnvRepo({ path: work }).view(reverted);
    expect(new TextDecoder().decode(view.readFile("a.yaml"))).toBe("a: 1\n");
    await expect(revertCommit(work, "0".repeat(40))).rejects.toMatchObject({ code: ErrorCode.NotFound });
  });
});
