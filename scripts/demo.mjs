// `npm run demo`: install what is missing, build the control-plane binaries on first use, then run
// `flotilla demo` from the sources.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { ensureInstall, ensureKubeBinaries, root } from "./ensure-install.mjs";

ensureInstall();
ensureKubeBinaries();
const r = spawnSync(
  process.execPath,
  ["--conditions=@flotilla/source", "--import", "tsx", join(root, "services/cli/src/main.ts"), "demo", ...process.argv.slice(2)],
  { cwd: root, stdio: "inherit" },
);
process.exit(r.status ?? 1);
