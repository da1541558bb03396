// `npm run bench`: install what is missing, build the control-plane binaries on first use, then run
// every bench in bench/ one after the other (they measure time and memory: never in parallel),
// each printing its figures. docs/benchmarks.md says what each one measures.
//
//   npm run bench                        every bench
//   npm run bench -- drift               the benches whose file name contains "drift"
//   npm run bench -- drift --drifts 10   flags go to the bench (one bench selected only)
//
// Benches run from their TypeScript sources: node --conditions=@flotilla/source --import tsx.
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { ensureInstall, ensureKubeBinaries, root } from "./ensure-install.mjs";

// Cheap, fixed-cost benches first; the longest (agent footprint idles for a minute) last.
const ORDER = ["control-plane", "render", "drift", "agent-footprint"];
const rank = (file) => {
  const i = ORDER.findIndex((p) => file.startsWith(p));
  return i < 0 ? ORDER.length : i;
};

const args = process.argv.slice(2);
const firstFlag = args.findIndex((a) => a.startsWith("-"));
const filters = firstFlag < 0 ? args : args.slice(0, firstFlag);
const flags = firstFlag < 0 ? [] : args.slice(firstFlag);

const benchDir = join(root, "bench");
const all = readdirSync(benchDir)
  .filter((f) => /\.(mjs|mts|ts)$/.test(f) && !f.endsWith(".d.ts"))
  .sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
const selected = filters.length ? all.filter((f) => filters.some((x) => f.includes(x))) : all;

if (selected.length === 0) {
  console.error(`[flotilla] no bench matches ${filters.join(", ")}; there are: ${all.join(", ")}`);
  process.exit(2);
}
if (flags.length && selected.length !== 1) {
  console.error(`[flotilla] flags (${flags.join(" ")}) go to one bench; ${selected.length} match: ${selected.join(", ")}. Name one, e.g. npm run bench -- drift ${flags.join(" ")}`);
  process.exit(2);
}

ensureInstall();
const binDir = ensureKubeBinaries();
console.error(`[flotilla] control plane binaries: ${binDir}`);

const results = [];
for (const file of selected) {
  console.log(`\n### bench/${file}${flags.length ? ` ${flags.join(" ")}` : ""}`);
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ["--conditions=@flotilla/source", "--import", "tsx", join(benchDir, file), ...flags], {
    cwd: root,
    stdio: "inherit",
    // FLOTILLA_BENCH_CHILD: already under tsx with the source condition (bench/render.mjs re-execs otherwise).
    env: { ...process.env, KUBEBUILDER_ASSETS: process.env.KUBEBUILDER_ASSETS ?? binDir, FLOTILLA_BENCH_CHILD: "1" },
  });
  const seconds = ((performance.now() - t0) / 1000).toFixed(0);
  const status = r.status === 0 ? "ok" : r.signal ? `killed by ${r.signal}` : `exit ${r.status}`;
  results.push({ file, status, seconds });
  if (r.signal === "SIGINT") break;
}

console.log("\n### summary");
for (const r of results) console.log(`bench/${r.file.padEnd(28)} ${r.status.padEnd(10)} ${r.seconds} s`);
process.exit(results.every((r) => r.status === "ok") ? 0 : 1);
