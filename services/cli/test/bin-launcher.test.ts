// `npx flotilla` right after `npm ci`: npm links node_modules/.bin/flotilla to the committed
// launcher (services/cli/bin/flotilla.mjs), which runs the sources through tsx when dist/ is not
// built. The test goes through the link npm made, in source mode, and checks that the exit status
// and the streams of the command come through the launcher unchanged.
import { execFile } from "node:child_process";
import { lstat, realpath } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const LINK = join(ROOT, "node_modules/.bin/flotilla");

function run(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(LINK, args, { cwd: ROOT, env: { PATH: process.env.PATH, HOME: process.env.HOME, FLOTILLA_FROM_SOURCE: "1" } }, (err, stdout, stderr) => {
      const status = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 1) : 0;
      done({ status, stdout, stderr });
    });
  });
}

describe("the flotilla executable npm links", () => {
  it("points at the committed launcher, not at dist/ (which npm ci does not build)", async () => {
    expect((await lstat(LINK)).isSymbolicLink()).toBe(true);
    expect(await realpath(LINK)).toBe(await realpath(join(ROOT, "services/cli/bin/flotilla.mjs")));
  });

  it("runs the CLI from its sources with exit status and output passed through", async () => {
    const help = await run(["render", "--help"]);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("render");
    const usage = await run(["no-such-command"]);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain("no-such-command");
  }, 60_000);
});
