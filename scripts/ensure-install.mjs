// Installs the workspace's dependencies when node_modules is missing or older than the lockfile,
// so `npm test` and `npm run demo` work on a fresh clone. Node built-ins only: it runs before
// anything is installed.
import { existsSync, statSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { dirname, join } from "node:path";

export const root = join(dirname(fileURLToPath(import.meta.url)), "..");

export function ensureInstall() {
  const marker = join(root, "node_modules", ".package-lock.json");
  const lock = join(root, "package-lock.json");
  const stale = !existsSync(marker) || (existsSync(lock) && statSync(lock).mtimeMs > statSync(marker).mtimeMs + 1000);
  if (!stale) return;
  console.error("[flotilla] installing dependencies (npm ci)…");
  const r = spawnSync("npm", ["ci", "--no-audit", "--no-fund"], { cwd: root, stdio: "inherit" });
  if (r.status !== 0) {
    console.error("[flotilla] npm ci failed; fix the error above and run the command again");
    process.exit(r.status ?? 1);
  }
}

/** Runs the control-plane build script (builds what is missing, prints progress) and returns the bin dir. */
export function ensureKubeBinaries() {
  const r = spawnSync("bash", [join(root, "libs/testkit/scripts/kube-binaries.sh")], {
    cwd: root,
    stdio: ["ignore", "pipe", "inherit"],
    encoding: "utf8",
  });
  if (r.status !== 0) {
    console.error("[flotilla] could not build the Kubernetes control plane (see above)");
    process.exit(r.status ?? 1);
  }
  return r.stdout.trim().split("\n").pop();
}

if (process.argv[1] === fileURLToPath(import.meta.url)) ensureInstall();
