// Flag parsing shared by the subcommands: every flag also reads an environment variable, and
// --help prints both.
import { parseArgs } from "node:util";

export interface FlagSpec {
  name: string;
  env?: string;
  type: "string" | "boolean";
  description: string;
  default?: string;
  multiple?: boolean;
}

export interface CommandSpec {
  name: string;
  summary: string;
  usage: string;
  flags: FlagSpec[];
}

export class UsageError extends Error {
  override readonly name = "UsageError";
}

export function helpText(cmd: CommandSpec): string {
  const lines = [`${cmd.summary}`, "", `Usage: ${cmd.usage}`, "", "Flags:"];
  for (const f of cmd.flags) {
    const left = `  --${f.name}${f.type === "string" ? " VALUE" : ""}`;
    const extra = [f.env ? `env ${f.env}` : "", f.default !== undefined ? `default ${f.default}` : ""].filter(Boolean).join("; ");
    lines.push(`${left.padEnd(30)} ${f.description}${extra ? ` (${extra})` : ""}`);
  }
  lines.push(`  --help${" ".repeat(24)} show this help`);
  return lines.join("\n");
}

export interface Parsed {
  values: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
  help: boolean;
}

export function parseCommand(cmd: CommandSpec, argv: string[], env: NodeJS.ProcessEnv = process.env): Parsed {
  const options: Record<string, { type: "string" | "boolean"; multiple?: boolean }> = { help: { type: "boolean" } };
  for (const f of cmd.flags) options[f.name] = { type: f.type, ...(f.multiple ? { multiple: true } : {}) };
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\nRun "flotilla ${cmd.name} --help" for the flags.`);
  }
  const values: Parsed["values"] = {};
  for (const f of cmd.flags) {
    const v = parsed.values[f.name] as string | boolean | string[] | undefined;
    if (v !== undefined) values[f.name] = v;
    else if (f.env && env[f.env] !== undefined && env[f.env] !== "") {
      const e = env[f.env] as string;
      values[f.name] = f.type === "boolean" ? e === "true" || e === "1" : f.multiple ? e.split(",") : e;
    } else if (f.default !== undefined) values[f.name] = f.type === "boolean" ? f.default === "true" : f.default;
  }
  return { values, positionals: parsed.positionals, help: parsed.values.help === true };
}

export function requireString(p: Parsed, cmd: CommandSpec, name: string): string {
  const v = p.values[name];
  if (typeof v === "string" && v.length > 0) return v;
  const f = cmd.flags.find((x) => x.name === name);
  throw new UsageError(`flotilla ${cmd.name}: --${name}${f?.env ? ` (or ${f.env})` : ""} is required: ${f?.description ?? ""}`);
}
