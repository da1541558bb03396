import { appendFile, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { HeartbeatReport } from "@flotilla/model";
import { ReportSpool } from "../src/index.js";

const report = (id: string): HeartbeatReport => ({
  id,
  cluster: "edge-1",
  agent: "edge-1/a/1",
  at: "2026-01-01T00:00:00.000Z",
  kind: "heartbeat",
  generation: 1,
  deadlineSeconds: 30,
});

describe("ReportSpool", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), "flotilla-spool-"));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("replays added reports minus the done ones, in order, and skips a torn last line", async () => {
    const errors: string[] = [];
    const spool = new ReportSpool(dir, "edge-1", (_e, during) => errors.push(during));
    for (const id of ["a", "b", "c", "d"]) spool.add(report(id));
    spool.done(["b"]);
    spool.done(["d"]);
    await appendFile(spool.path, '{"add":{"id":"e","clus'); // a crash in the middle of a write
    const again = new ReportSpool(dir, "edge-1", (_e, during) => errors.push(during));
    expect(again.load().map((r) => r.id)).toEqual(["a", "c"]);
    expect(errors).toEqual([`loading spool ${spool.path}`]);
  });

  it("compacts to exactly the pending reports", async () => {
    const spool = new ReportSpool(dir, "edge-1");
    for (const id of ["a", "b", "c"]) spool.add(report(id));
    spool.done(["a"]);
    spool.rewrite([report("b"), report("c")]);
    const lines = (await readFile(spool.path, "utf8")).trim().split("\n");
    expect(lines).toHaveLength(2);
    expect(new ReportSpool(dir, "edge-1").load().map((r) => r.id)).toEqual(["b", "c"]);
  });

  it("reports an unusable directory once and never throws", async () => {
    const blocker = join(dir, "not-a-dir");
    await writeFile(blocker, "");
    const errors: unknown[] = [];
    const spool = new ReportSpool(blocker, "edge-1", (e) => errors.push(e));
    expect(() => {
      spool.add(report("a"));
      spool.done(["a"]);
      spool.rewrite([]);
    }).not.toThrow();
    expect(spool.load()).toEqual([]);
    expect(errors).toHaveLength(1);
  });
});
