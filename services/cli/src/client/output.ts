// Output for people (aligned tables, short revisions, ages) and for scripts (-o json / -o yaml:
// the API's body as it came, nothing added).
import { stringify as stringifyYaml } from "yaml";
import { UsageError } from "../args.js";

export type OutputFormat = "table" | "json" | "yaml";

export function outputFormat(value: unknown, command: string): OutputFormat {
  if (value === undefined || value === "table" || value === "wide") return "table";
  if (value === "json" || value === "yaml") return value;
  throw new UsageError(`flotilla ${command}: -o/--output "${String(value)}": use table, json or yaml`);
}

/** Prints a body for scripts; false when the format is for people (the caller prints a table). */
export function printData(format: OutputFormat, body: unknown, out: (s: string) => void = (s) => process.stdout.write(s)): boolean {
  if (format === "json") {
    out(`${JSON.stringify(body, null, 2)}\n`);
    return true;
  }
  if (format === "yaml") {
    out(stringifyYaml(body, { lineWidth: 0 }));
    return true;
  }
  return false;
}

/** Columns padded to the widest cell, two spaces apart, no trailing blanks. */
export function table(header: string[], rows: (string | number)[][]): string {
  const all = [header, ...rows.map((r) => r.map((c) => String(c)))];
  const widths = header.map((_, i) => Math.max(...all.map((r) => (r[i] ?? "").length)));
  return all.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join("  ").trimEnd()).join("\n");
}

/** "Key:  value" lines, keys aligned. */
export function fields(pairs: [string, string][]): string {
  const w = Math.max(...pairs.map(([k]) => k.length)) + 1;
  return pairs.map(([k, v]) => `${`${k}:`.padEnd(w + 1)} ${v}`.trimEnd()).join("\n");
}

export const dash = (v: string | number | null | undefined): string => (v === null || v === undefined || v === "" ? "-" : String(v));

/** A commit id as people read it. */
export const shortRev = (rev: string | null | undefined): string => (rev ? rev.slice(0, 7) : "-");

/** `sha256:5d1f2a…` → `5d1f2a3b4c5d`. */
export const shortDigest = (d: string | null | undefined): string => (d ? d.replace(/^sha256:/, "").slice(0, 12) : "-");

/** How long ago, kubectl-style: 42s, 5m, 3h, 2d. "never" for no time. */
export function age(iso: string | null | undefined, now: number = Date.now()): string {
  if (!iso) return "never";
  const ms = now - Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s}s ago`;
  if (s < 7200) return `${Math.floor(s / 60)}m ago`;
  if (s < 172_800) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86_400)}d ago`;
}

/** `Ada <ada@example.com>` → `Ada`. */
export const person = (author: string | null | undefined): string => (author ? author.replace(/\s*<[^>]*>\s*$/, "") || author : "-");

export const firstLine = (s: string | null | undefined): string => (s ? (s.split("\n")[0] ?? "") : "");

export function labels(l: Record<string, string> | null | undefined): string {
  const entries = Object.entries(l ?? {});
  return entries.length ? entries.map(([k, v]) => `${k}=${v}`).join(",") : "-";
}
