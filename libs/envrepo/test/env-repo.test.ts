import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ErrorCode, FlotillaError } from "@flotilla/model";
import { openEnvRepo } from "@flotilla/envrepo";
import { commitFiles, createWorkRepo, TEST_AUTHOR } from "@flotilla/envrepo/testing";

const dec = new TextDecoder();
let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "envrepo-local-"));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("a local env repo, read in place", () => {
  it("resolves the branch head and shows each commit's files, not the work tree's", async () => {
    const first = await createWorkRepo(dir, { "flotilla.yaml": "v: 1\n", "apps/shop/a.yaml": "a: 1\n", "apps/shop/b.yaml": "b: 1\n" });
    const repo = openEnvRepo({ path: dir, branch: "main" });
    expect(await repo.fetch()).toBe(first);

    const second = await commitFiles(dir, { "apps/shop/a.yaml": "a: 2\n", "apps/shop/b.yaml": null, "apps/web/c.yaml": "c: 1\n" }, "Change shop, add web", {
      name: "Ada",
      email: "ada@example.test",
    });
    expect(await repo.fetch()).toBe(second);

    const v1 = await repo.view(first);
    const v2 = await repo.view(second);
    expect(dec.decode(v1.readFile("apps/shop/a.yaml"))).toBe("a: 1\n");
    expect(dec.decode(v2.readFile("./apps/shop/a.yaml"))).toBe("a: 2\n");
    expect(v1.listDir("apps/shop")).toEqual(["a.yaml", "b.yaml"]);
    expect(v2.listDir("apps/shop")).toEqual(["a.yaml"]);
    expect(v2.listDir("")).toEqual(["apps", "flotilla.yaml"]);
    expect(v2.listDir("apps/shop/a.yaml")).toBeUndefined();
    expect(v2.readFile("apps/shop")).toBeUndefined();
    expect(v2.readFile("apps/shop/b.yaml")).toBeUndefined();
    expect(v2.readFile("../etc/passwd")).toBeUndefined();
    expect(v2.paths()).toEqual(["apps/shop/a.yaml", "apps/web/c.yaml", "flotilla.yaml"]);
    // Unchanged blobs are shared between the views, not read twice.
    expect(v2.readFile("flotilla.yaml")).toBe(v1.readFile("flotilla.yaml"));

    expect(await repo.changedPaths(first, second)).toEqual(["apps/shop/a.yaml", "apps/shop/b.yaml", "apps/web/c.yaml"]);
    expect(await repo.changedPaths(second, second)).toEqual([]);

    const info = await repo.commitInfo(second);
    expect(info).toMatchObject({ revision: second, author: "Ada <ada@example.test>", message: "Change shop, add web" });
    expect(Date.parse(info.time)).toBeGreaterThan(Date.now() - 60_000);
    expect((await repo.commitInfo(first)).author).toBe(`${TEST_AUTHOR.name} <${TEST_AUTHOR.email}>`);
  });

  it("follows HEAD when no branch is given, and refuses what is not a repository or branch", async () => {
    const head = await createWorkRepo(dir, { "flotilla.yaml": "x\n" }, { branch: "trunk" });
    expect(await openEnvRepo({ path: dir }).fetch()).toBe(head);
    const missingBranch = openEnvRepo({ path: dir, branch: "nope" }).fetch();
    await expect(missingBranch).rejects.toThrow(FlotillaError);
    await expect(missingBranch).rejects.toMatchObject({ code: ErrorCode.RepoUnavailable, message: expect.stringMatching(/resolving branch nope/) });
    await expect(openEnvRepo({ path: join(dir, "apps") }).fetch()).rejects.toMatchObject({
      code: ErrorCode.RepoUnavailable,
      message: expect.stringMatching(/not a git repository/),
    });
    expect(() => openEnvRepo({ url: "file:///tmp/x" })).toThrow(/only http\(s\) is supported/);
  });
});
