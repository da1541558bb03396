// A plane that cannot start says which component failed and why (the tail of its log), and
// leaves nothing running.
import { chmodSync, existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ControlPlaneStartError, KUBE_BINARIES, ensureKubeBinaries, startControlPlane } from "../src/index.js";
import { processGone } from "./support/processes.js";

const binDir = mkdtempSync(join(tmpdir(), "flotilla-broken-bin-"));
afterAll(() => rmSync(binDir, { recursive: true, force: true }));

describe("startControlPlane failures", () => {
  it("throws ControlPlaneStartError with the failing component's log tail and cleans up", async () => {
    // Real binaries, except an apiserver that rejects its flags the way a real one would.
    const real = await ensureKubeBinaries();
    for (const b of KUBE_BINARIES) if (b !== "kube-apiserver") symlinkSync(join(real, b), join(binDir, b));
    writeFileSync(
      join(binDir, "kube-apiserver"),
      '#!/bin/sh\necho "E1126 starting the apiserver"\necho "Error: invalid argument \\"$1\\" (simulated)" >&2\nexit 1\n',
    );
    chmodSync(join(binDir, "kube-apiserver"), 0o755);

    const err = await startControlPlane({ name: "broken", controllers: false, binDir }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ControlPlaneStartError);
    const failure = err as ControlPlaneStartError;
    expect(failure.component).toBe("kube-apiserver");
    expect(failure.message).toContain("kube-apiserver exited with code 1");
    expect(failure.message).toContain("invalid argument \"--etcd-servers=");
    expect(failure.logTail).toContain("(simulated)");

    // The log is kept next to the removed plane dir; the dir and etcd are gone.
    const kept = /last lines of (\S+) ---/.exec(failure.message)?.[1];
    expect(kept).toBeDefined();
    expect(existsSync(kept!)).toBe(true);
    const planeDir = join(tmpdir(), basename(kept!).replace(/-kube-apiserver\.log$/, ""));
    expect(existsSync(planeDir)).toBe(false);
    rmSync(kept!, { force: true });
    const { execFileSync } = await import("node:child_process");
    const survivors = execFileSync("ps", ["-eo", "pid=,args="], { encoding: "utf8" })
      .split("\n")
      .filter((line) => line.includes(planeDir))
      .map((line) => Number(line.trim().split(" ")[0]))
      .filter((pid) => pid !== process.pid && !processGone(pid));
    expect(survivors).toEqual([]);
  });
});
