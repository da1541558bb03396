// Size limits given on the command line (--max-report-bytes, --max-bundle-bytes): a positive whole
// number of bytes, or with a KiB/MiB/GiB suffix. A bad one is a usage error naming the flag, so a
// typo never silently becomes "no limit" or "refuse everything".
import { UsageError, type CommandSpec, type Parsed } from "./args.js";

const UNITS: Record<string, number> = { "": 1, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };

export function parseByteLimit(value: string): number | undefined {
  const m = /^\s*(\d+)\s*(kib|mib|gib)?\s*$/i.exec(value);
  if (!m) return undefined;
  const bytes = Number(m[1]) * UNITS[(m[2] ?? "").toLowerCase()]!;
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : undefined;
}

/** The flag's value in bytes (its default when not given); throws a UsageError naming flag and env. */
export function byteLimitFlag(p: Parsed, cmd: CommandSpec, name: string): number {
  const raw = String(p.values[name]);
  const bytes = parseByteLimit(raw);
  if (bytes !== undefined) return bytes;
  const f = cmd.flags.find((x) => x.name === name);
  throw new UsageError(`flotilla ${cmd.name}: --${name}${f?.env ? ` (or ${f.env})` : ""} is "${raw}": give a positive number of bytes, e.g. 1048576 or 1MiB`);
}
