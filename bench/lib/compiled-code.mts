// Which code a bench's child process runs: "built" — the compiled workspaces (dist/), as the
// images run them (deploy/docker) — or "source": the TypeScript through tsx with the
// @flotilla/source condition, as the tests run it. The bench process itself stays on tsx; a
// child without the condition resolves every workspace to its package.json "default" export.
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export type Code = "source" | "built";

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));

/** A bench's --hub-code / --agents-code flag, checked; built unless asked otherwise. */
export function codeOption(flag: string, value: string | undefined): Code {
  if (value === undefined) return "built";
  if (value === "source" || value === "built") return value;
  throw new Error(`${flag} must be "built" or "source", not ${JSON.stringify(value)}`);
}

/** Entry points of the compiled command, checked after the build. */
const BUILT_ENTRIES = ["services/hub/dist/index.js", "agents/cluster-agent/dist/index.js", "services/cli/dist/young-generation.js", "libs/wire/dist/index.js"];
let built = false;

/**
 * Builds the `flotilla` command and the workspaces it needs, as deploy/docker/Dockerfile does, so
 * what is measured is the current code: turbo rebuilds only packages whose sources changed (a
 * few seconds when nothing did, ~40 s from a clean clone). Once per bench process.
 */
export function buildFlotilla(): void {
  if (built) return;
  console.log("bench: building the flotilla command (turbo run build --filter=flotilla...) to run it compiled, as its images do");
  const r = spawnSync("npx", ["turbo", "run", "build", "--filter=flotilla...", "--output-logs=errors-only"], { cwd: REPO_ROOT, stdio: "inherit" });
  if (r.status !== 0) throw new Error(`building flotilla failed (exit ${r.status ?? r.signal}); run \`npm run build\` to see why`);
  const missing = BUILT_ENTRIES.filter((f) => !existsSync(join(REPO_ROOT, f)));
  if (missing.length > 0) throw new Error(`${missing.join(", ")} missing after \`turbo run build\``);
  built = true;
}

/** `execArgv` for a child running `code`: for "built", the build is run and the source condition dropped. */
export function execArgvFor(code: Code, execArgv: readonly string[]): string[] {
  if (code === "source") return [...execArgv];
  buildFlotilla();
  const kept: string[] = [];
  for (let i = 0; i < execArgv.length; i++) {
    const a = execArgv[i]!;
    if (a === "--conditions=@flotilla/source" || a === "-C=@flotilla/source") continue;
    if ((a === "--conditions" || a === "-C") && execArgv[i + 1] === "@flotilla/source") {
      i++;
      continue;
    }
    kept.push(a);
  }
  return kept;
}
