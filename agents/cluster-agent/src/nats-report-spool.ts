// The reporter's on-disk queue, so reports survive an agent restart. An append-only JSONL file:
// `{"add":<report>}` when a report is queued, `{"done":[ids]}` when JetStream acknowledged it (or
// a heartbeat was coalesced away). Replaying the file gives the pending reports in order. The
// file is rewritten (temp + rename) with just the pending reports when the queue drains and
// every COMPACT_AFTER done ids, so it stays about as large as the queue.
//
// Appends are synchronous so a report is on disk before status()/drift()/heartbeat() return; they
// are not fsynced (a process crash loses nothing, a power cut may lose the last lines).
// One reporter per spool directory and cluster.
import { appendFileSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Report } from "@flotilla/model";

type SpoolLine = { add: Report } | { done: string[] };

export class ReportSpool {
  readonly path: string;
  private failed = false;

  constructor(
    dir: string,
    cluster: string,
    private readonly onError: (err: unknown, during: string) => void = () => undefined,
  ) {
    this.path = join(dir, `${cluster}.reports.jsonl`);
    try {
      mkdirSync(dir, { recursive: true });
    } catch (err) {
      this.fail(err, `creating spool directory ${dir}`);
    }
  }

  /** The reports queued but never acknowledged, in order. A torn last line (crash) is skipped. */
  load(): Report[] {
    let text: string;
    try {
      text = readFileSync(this.path, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") this.fail(err, `reading spool ${this.path}`);
      return [];
    }
    const pending = new Map<string, Report>();
    let skipped = 0;
    for (const line of text.split("\n")) {
      if (!line.trim()) continue;
      let entry: SpoolLine;
      try {
        entry = JSON.parse(line) as SpoolLine;
      } catch {
        skipped++;
        continue;
      }
      if ("add" in entry && entry.add && typeof entry.add.id === "string") pending.set(entry.add.id, entry.add);
      else if ("done" in entry && Array.isArray(entry.done)) for (const id of entry.done) pending.delete(id);
      else skipped++;
    }
    if (skipped > 0) this.onError(new Error(`${skipped} unreadable line(s) skipped`), `loading spool ${this.path}`);
    return [...pending.values()];
  }

  add(report: Report): void {
    this.append({ add: report });
  }

  done(ids: string[]): void {
    if (ids.length > 0) this.append({ done: ids });
  }

  /** Replaces the file with exactly these pending reports. */
  rewrite(pending: readonly Report[]): void {
    const tmp = `${this.path}.${process.pid}.tmp`;
    try {
      // Empty (the common case: the queue drained after each report): truncating in place cannot
      // leave a torn file, so it skips the temp file and the rename — two of the three file system
      // calls each heartbeat cost a thousand agents in one process.
      if (pending.length === 0) return writeFileSync(this.path, "", { mode: 0o600 });
      writeFileSync(tmp, pending.map((r) => `${JSON.stringify({ add: r })}\n`).join(""), { mode: 0o600 });
      renameSync(tmp, this.path);
    } catch (err) {
      this.fail(err, `compacting spool ${this.path}`);
    }
  }

  private append(line: SpoolLine): void {
    try {
      appendFileSync(this.path, `${JSON.stringify(line)}\n`, { mode: 0o600 });
    } catch (err) {
      this.fail(err, `appending to spool ${this.path}`);
    }
  }

  /** Spool trouble never stops reporting (the queue stays in memory); it is said once. */
  private fail(err: unknown, during: string): void {
    if (this.failed) return;
    this.failed = true;
    this.onError(err, `${during} (reports stay queued in memory)`);
  }
}
