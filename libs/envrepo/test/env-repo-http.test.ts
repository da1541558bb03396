import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ErrorCode } from "@flotilla/model";
import { openEnvRepo } from "@flotilla/envrepo";
import { commitFiles, createWorkRepo, pushWorkRepo, startGitHttpServer, type GitHttpServer } from "@flotilla/envrepo/testing";

const TOKEN = "s3cret-token";
const dec = new TextDecoder();
let server: GitHttpServer;
let tmp: string;

beforeEach(async () => {
  server = await startGitHttpServer({ token: TOKEN });
  tmp = await mkdtemp(join(tmpdir(), "envrepo-http-"));
});
afterEach(async () => {
  await server.close();
  await rm(tmp, { recursive: true, force: true });
});

describe("an env repo over smart HTTP", () => {
  it("clones once without checkout, then fetches new commits with the token", async () => {
    const url = server.createBareRepo("fleet");
    const work = join(tmp, "work");
    const first = await createWorkRepo(work, { "flotilla.yaml": "v: 1\n", "apps/shop/a.yaml": "a: 1\n" });
    await pushWorkRepo(work, url, { token: TOKEN });

    const clone = join(tmp, "clone");
    const repo = openEnvRepo({ url, token: TOKEN, branch: "main", workDir: clone });
    expect(await repo.fetch()).toBe(first);
    expect(dec.decode((await repo.view(first)).readFile("apps/shop/a.yaml"))).toBe("a: 1\n");
    // noCheckout: nothing but .git in the clone directory.
    const { readdir } = await import("node:fs/promises");
    expect(await readdir(clone)).toEqual([".git"]);

    const second = await commitFiles(work, { "apps/shop/a.yaml": "a: 2\n" }, "Bump a");
    await pushWorkRepo(work, url, { token: TOKEN });
    expect(await repo.fetch()).toBe(second);
    expect(dec.decode((await repo.view(second)).readFile("apps/shop/a.yaml"))).toBe("a: 2\n");
    expect(await repo.changedPaths(first, second)).toEqual(["apps/shop/a.yaml"]);
    expect((await repo.commitInfo(second)).message).toBe("Bump a");

    // Nothing new: the same head again.
    expect(await repo.fetch()).toBe(second);

    // A restarted hub reuses the clone in its workDir.
    const third = await commitFiles(work, { "apps/shop/b.yaml": "b: 1\n" }, "Add b");
    await pushWorkRepo(work, url, { token: TOKEN });
    expect(await openEnvRepo({ url, token: TOKEN, workDir: clone }).fetch()).toBe(third);
  });

  it("replaces a clone whose packfiles piled up (no gc in isomorphic-git)", async () => {
    const url = server.createBareRepo("fleet");
    const work = join(tmp, "work");
    await createWorkRepo(work, { "a.yaml": "a: 0\n" });
    await pushWorkRepo(work, url, { token: TOKEN });
    const clone = join(tmp, "clone");
    const repo = openEnvRepo({ url, token: TOKEN, workDir: clone, maxPacks: 2 });
    await repo.fetch();
    const { readdir } = await import("node:fs/promises");
    const packs = async () => (await readdir(join(clone, ".git/objects/pack"))).filter((n) => n.endsWith(".pack")).length;
    let head = "";
    const seen: number[] = [];
    for (let i = 1; i <= 3; i++) {
      await commitFiles(work, { "a.yaml": `a: ${i}\n` }, `a ${i}`);
      await pushWorkRepo(work, url, { token: TOKEN });
      head = await repo.fetch();
      seen.push(await packs());
    }
    expect(seen).toEqual([2, 3, 1]);
    expect(new TextDecoder().decode((await repo.view(head)).readFile("a.yaml"))).toBe("a: 3\n");
  });

  it("fails with a clear error for a wrong or missing token, without leaking it", async () => {
    const url = server.createBareRepo("fleet");
    const work = join(tmp, "work");
    await createWorkRepo(work, { "flotilla.yaml": "v: 1\n" });
    await pushWorkRepo(work, url, { token: TOKEN });

    const wrong = openEnvRepo({ url, token: "not-the-token", workDir: join(tmp, "c1") }).fetch();
    await expect(wrong).rejects.toMatchObject({ code: ErrorCode.RepoUnavailable, message: expect.stringMatching(/authentication failed/) });
    await expect(wrong).rejects.not.toThrow(/not-the-token/);
    const none = openEnvRepo({ url, workDir: join(tmp, "c2") }).fetch();
    await expect(none).rejects.toMatchObject({ code: ErrorCode.RepoUnavailable, message: expect.stringMatching(/HTTP 401/) });
    expect(server.stats.refused).toBeGreaterThan(0);

    const missing = openEnvRepo({ url: server.url("nope"), token: TOKEN, workDir: join(tmp, "c3") }).fetch();
    await expect(missing).rejects.toMatchObject({ code: ErrorCode.RepoUnavailable });
  });
});
