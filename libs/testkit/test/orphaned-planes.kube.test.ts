// A plane must not outlive the process that started it, even when that process is SIGKILLed and
// no exit hook runs: its watchdog kills it, and if the watchdog died too, the next
// startControlPlane (reapOrphanedPlanes) does.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { reapOrphanedPlanes, waitFor } from "../src/index.js";
import { commandLine, processGone } from "./support/processes.js";

const fixture = fileURLToPath(new URL("./fixtures/plane-owner.ts", import.meta.url));

interface OwnedPlane {
  owner: number;
  pids: number[];
  dir: string;
}

// A records dir of our own: other test runs on the machine reap orphans from the shared one.
const records = mkdtempSync(join(tmpdir(), "flotilla-test-planes-"));
afterAll(() => rmSync(records, { recursive: true, force: true }));

async function startOwner(name: string): Promise<OwnedPlane> {
  const child = spawn(process.execPath, ["--import", "tsx", fixture, name], {
    stdio: ["ignore", "pipe", "inherit"],
    env: { ...process.env, FLOTILLA_PLANES_DIR: records },
  });
  let out = "";
  child.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
  const line = await waitFor(() => (out.includes("\n") ? out.split("\n")[0] : undefined), {
    what: `the plane owner ${name} to report its plane`,
    timeoutMs: 120_000,
  });
  const { pids, dir } = JSON.parse(line!) as { pids: number[]; dir: string };
  const plane = { owner: child.pid!, pids, dir };
  started.push(plane);
  return plane;
}

// Should an assertion fail halfway, the plane must not outlive the test either.
const started: OwnedPlane[] = [];
afterEach(() => {
  for (const plane of started.splice(0)) {
    const kill = (target: number) => {
      try {
        process.kill(target, "SIGKILL");
      } catch {
        // already gone
      }
    };
    if (!processGone(plane.owner)) kill(plane.owner);
    // Components and the watchdog lead their own process groups.
    for (const pid of plane.pids) if (!processGone(pid)) kill(-pid);
    rmSync(plane.dir, { recursive: true, force: true });
  }
});

describe("orphaned control planes", () => {
  it("are killed by their watchdog when the owner is SIGKILLed", async () => {
    const plane = await startOwner("orphan-watchdog");
    expect(plane.pids.every((pid) => !processGone(pid))).toBe(true);
    process.kill(plane.owner, "SIGKILL");
    await waitFor(() => plane.pids.every(processGone), { what: "every process of the orphaned plane to die", timeoutMs: 15_000 });
    await waitFor(() => !existsSync(plane.dir), { what: `${plane.dir} to be removed`, timeoutMs: 15_000 });
    expect(existsSync(join(records, `${plane.dir.split("/").pop()}.plane`))).toBe(false);
  });

  it("are reaped by reapOrphanedPlanes when owner and watchdog are both gone", async () => {
    const plane = await startOwner("orphan-reaper");
    const watchdog = plane.pids.find((pid) => commandLine(pid).includes("flotilla-plane-watchdog"));
    expect(watchdog).toBeDefined();
    process.kill(watchdog!, "SIGKILL");
    await waitFor(() => processGone(watchdog!), { what: "the watchdog to die" });
    process.kill(plane.owner, "SIGKILL");
    await waitFor(() => processGone(plane.owner), { what: "the owner to die" });
    const components = plane.pids.filter((pid) => pid !== watchdog);
    expect(components.every((pid) => !processGone(pid))).toBe(true);

    const reaped = reapOrphanedPlanes(records);
    expect(reaped.some((id) => plane.dir.endsWith(id))).toBe(true);
    await waitFor(() => components.every(processGone), { what: "the reaped plane's processes to die", timeoutMs: 15_000 });
    expect(existsSync(plane.dir)).toBe(false);
    expect(existsSync(join(records, `${plane.dir.split("/").pop()}.plane`))).toBe(false);
  });
});
