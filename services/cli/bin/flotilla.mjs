#!/usr/bin/env node
// The `flotilla` executable npm links into node_modules/.bin. It exists as a committed file (not
// dist/main.js) because npm creates a workspace's bin link only when its target exists at
// `npm ci` time, and dist/ is built later. Built: run dist/main.js in this process. Not built
// (a fresh clone): run the TypeScript sources through tsx with the @flotilla/source condition,
// the same way the tests and the demo do.
import { existsSync } from "node:fs";
import { spawn } from "node:child_process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { dirname, join } from "node:path";

const pkg = join(dirname(fileURLToPath(import.meta.url)), "..");
const built = join(pkg, "dist", "main.js");

if (existsSync(built) && !process.env.FLOTILLA_FROM_SOURCE) {
  await import(pathToFileURL(built).href);
} else {
  let tsx;
  try {
    tsx = import.meta.resolve("tsx");
  } catch {
    console.error("flotilla: neither services/cli/dist/main.js nor tsx is installed; run `npm ci` (and `npm run build` for a built CLI)");
    process.exit(1);
  }
  const child = spawn(process.execPath, ["--conditions=@flotilla/source", "--import", tsx, join(pkg, "src", "main.ts"), ...process.argv.slice(2)], {
    stdio: "inherit",
  });
  // The child gets terminal signals itself (same process group); forward the ones sent to us alone.
  for (const signal of ["SIGTERM", "SIGINT", "SIGHUP"]) process.on(signal, () => child.kill(signal));
  child.on("exit", (code, signal) => process.exit(code ?? (signal ? 128 + (signal === "SIGINT" ? 2 : 15) : 1)));
}
