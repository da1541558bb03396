// `npm test`: install what is missing, build the control-plane binaries on first use, run every
// test once (unit + kube projects) and print one closing line "N passed, N failed". Fails loudly
// when no test ran.
import { spawnSync } from "node:child_process";
import { readFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ensureInstall, ensureKubeBinaries, root } from "./ensure-install.mjs";

ensureInstall();
const binDir = ensureKubeBinaries();
console.error(`[flotilla] control plane binaries: ${binDir}`);

const out = mkdtempSync(join(tmpdir(), "flotilla-test-"));
const report = join(out, "vitest.json");
const args = ["vitest", "run", "--reporter=default", "--reporter=json", `--outputFile.json=${report}`, ...process.argv.slice(2)];
const run = spawnSync("npx", args, { cwd: root, stdio: "inherit", env: { ...process.env, KUBEBUILDER_ASSETS: process.env.KUBEBUILDER_ASSETS ?? binDir } });

let summary;
try {
  summary = JSON.parse(readFileSync(report, "utf8"));
} catch {
  console.error("\n[flotilla] FAILED: vitest wrote no report — no test ran");
  process.exit(run.status || 1);
} finally {
  rmSync(out, { recursive: true, force: true });
}
const passed = summary.numPassedTests ?? 0;
// A file that fails to load has no failed test of its own: count it, so the line never says 0 failed.
const failedFiles = (summary.testResults ?? []).filter((f) => f.status === "failed" && !(f.assertionResults ?? []).some((a) => a.status === "failed")).length;
const failed = (summary.numFailedTests ?? 0) + failedFiles;
const skipped = (summary.numPendingTests ?? 0) + (summary.numTodoTests ?? 0);
console.log(`\nTests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
if (passed === 0) {
  console.error("[flotilla] FAILED: no test ran");
  process.exit(1);
}
process.exit(run.status === 0 && failed === 0 ? 0 : 1);
