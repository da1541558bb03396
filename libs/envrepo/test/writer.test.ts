import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ErrorCode } from "@flotilla/model";
import { openEnvRepo, openEnvRepoWriter } from "@flotilla/envrepo";
import { createWorkRepo, pushWorkRepo, startGitHttpServer, type GitHttpServer } from "@flotilla/envrepo/testing";

const TOKEN = "writer-token";
const dec = new TextDecoder();
let server: GitHttpServer;
let tmp: string;
let url: string;
let work: string;

beforeEach(async () => {
  server = await startGitHttpServer({ token: TOKEN });
  tmp = await mkdtemp(join(tmpdir(), "envrepo-writer-"));
  url = server.createBareRepo("fleet");
  work = join(tmp, "work");
  await createWorkRepo(work, { "flotilla.yaml": "v: 1\n", "apps/shop/deploy.yaml": "image: nginx:1.26\n", "apps/shop/run.sh": "#!/bin/sh\n" });
  await pushWorkRepo(work, url, { token: TOKEN });
});
afterEach(async () => {
  await server.close();
  await rm(tmp, { recursive: true, force: true });
});

describe("EnvRepoWriter over HTTP", () => {
  it("commits changes on top of the remote head and pushes them; reverts by pushing the inverse", async () => {
    const writer = openEnvRepoWriter({ url, token: TOKEN, workDir: join(tmp, "writer"), author: { name: "Promoter", email: "p@example.test" } });
    const reader = openEnvRepo({ url, token: TOKEN, workDir: join(tmp, "reader") });

    const promoted = await writer.commit({ "apps/shop/deploy.yaml": "image: nginx:1.27\n", "apps/web/new.yaml": "x: 1\n", "flotilla.yaml": null }, "Promote shop to prod");
    expect(await reader.fetch()).toBe(promoted);
    const v = await reader.view(promoted);
    expect(dec.decode(v.readFile("apps/shop/deploy.yaml"))).toBe("image: nginx:1.27\n");
    expect(dec.decode(v.readFile("apps/web/new.yaml"))).toBe("x: 1\n");
    expect(v.readFile("flotilla.yaml")).toBeUndefined();
    expect(v.paths()).toEqual(["apps/shop/deploy.yaml", "apps/shop/run.sh", "apps/web/new.yaml"]);
    expect((await reader.commitInfo(promoted)).author).toBe("Promoter <p@example.test>");

    // Someone else commits on top; the revert builds on their commit and keeps it.
    const other = openEnvRepoWriter({ url, token: TOKEN, workDir: join(tmp, "other") });
    const unrelated = await other.commit({ "apps/other.yaml": "o: 1\n" }, "Unrelated");
    const reverted = await writer.revert(promoted);
    expect(await reader.fetch()).toBe(reverted);
    const after = await reader.view(reverted);
    expect(dec.decode(after.readFile("apps/shop/deploy.yaml"))).toBe("image: nginx:1.26\n");
    expect(after.readFile("apps/web/new.yaml")).toBeUndefined();
    expect(dec.decode(after.readFile("flotilla.yaml"))).toBe("v: 1\n");
    expect(dec.decode(after.readFile("apps/other.yaml"))).toBe("o: 1\n");
    expect((await reader.commitInfo(reverted)).message).toBe(`Revert "Promote shop to prod"\n\nThis reverts commit ${promoted}.`);
    // The reader's clone is shallow: only the revisions it fetched are there to compare.
    expect(await reader.changedPaths(promoted, reverted)).toEqual(["apps/other.yaml", "apps/shop/deploy.yaml", "apps/web/new.yaml", "flotilla.yaml"]);
    expect(unrelated).toMatch(/^[0-9a-f]{40}$/);
  });

  it("finds a commit another writer (or an earlier life of this one) already pushed, by its message", async () => {
    const first = openEnvRepoWriter({ url, token: TOKEN, workDir: join(tmp, "first") });
    const pushed = await first.commit({ "a.yaml": "a\n" }, "Wave 1\n\nFlotilla-Promotion: prm-1\nFlotilla-Wave: 1/2\n");
    await first.commit({ "b.yaml": "b\n" }, "Something later");
    const restarted = openEnvRepoWriter({ url, token: TOKEN, workDir: join(tmp, "restarted") });
    expect(await restarted.findCommit((m) => m.includes("Flotilla-Promotion: prm-1\nFlotilla-Wave: 1/2"))).toBe(pushed);
    expect(await restarted.findCommit((m) => m.includes("Flotilla-Wave: 2/2"))).toBeUndefined();
    expect(await restarted.findCommit((m) => m.includes("Flotilla-Promotion: prm-1"), 1)).toBeUndefined();
  });

  it("two writers racing both land: the loser redoes its commit on the new head", async () => {
    const a = openEnvRepoWriter({ url, token: TOKEN, workDir: join(tmp, "a") });
    const b = openEnvRepoWriter({ url, token: TOKEN, workDir: join(tmp, "b") });
    await Promise.all([a.commit({ "a.yaml": "a\n" }, "A"), b.commit({ "b.yaml": "b\n" }, "B")]);
    const reader = openEnvRepo({ url, token: TOKEN, workDir: join(tmp, "reader") });
    const v = await reader.view(await reader.fetch());
    expect(dec.decode(v.readFile("a.yaml"))).toBe("a\n");
    expect(dec.decode(v.readFile("b.yaml"))).toBe("b\n");
  });

  it("a beforePush that throws refuses the write: nothing reaches the remote, and the writer's next commit lands on the remote head", async () => {
    const writer = openEnvRepoWriter({ url, token: TOKEN, workDir: join(tmp, "writer") });
    const reader = openEnvRepo({ url, token: TOKEN, workDir: join(tmp, "reader") });
    const before = await reader.fetch();
    const refused = new Error("lease lost");
    let asked = 0;
    const beforePush = async () => {
      asked++;
      throw refused;
    };
    await expect(writer.commit({ "x.yaml": "x\n" }, "Refused", undefined, beforePush)).rejects.toMatchObject({ cause: refused });
    expect(asked).toBe(1);
    expect(await reader.fetch()).toBe(before);
    // The refused commit stayed in the writer's clone only: the next commit's parent is the remote head.
    const next = await writer.commit({ "y.yaml": "y\n" }, "Next", undefined, async () => undefined);
    expect(await reader.fetch()).toBe(next);
    const v = await reader.view(next);
    expect(v.readFile("x.yaml")).toBeUndefined();
    expect(dec.decode(v.readFile("y.yaml"))).toBe("y\n");
  });

  it("refuses to write behind a work tree's back and fails clearly with a wrong token", async () => {
    await expect(openEnvRepoWriter({ path: work }).commit({ "x.yaml": "x" }, "x")).rejects.toMatchObject({ code: ErrorCode.ConfigInvalid });
    await expect(openEnvRepoWriter({ url, token: "wrong", workDir: join(tmp, "w") }).commit({ "x.yaml": "x" }, "x")).rejects.toMatchObject({
      code: ErrorCode.RepoUnavailable,
      message: expect.stringMatching(/commit "x": authentication failed: the access token was rejected$/),
    });
  });
});
