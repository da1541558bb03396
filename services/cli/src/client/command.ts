// What every fleet-API command shares: the connection flags (--hub, --token, --context), -o,
// --help, and one place that turns API errors into messages and exit codes.
import { helpText, parseCommand, UsageError, type CommandSpec, type FlagSpec, type Parsed } from "../args.js";
import { createProcessLogger, LOG_LEVEL_ENV, parseLogLevel, type ProcessLogger } from "../process-logger.js";
import { resolveConnection, type Connection } from "./config.js";
import { ApiError, ConnectionError, Exit, exitCodeOf, HubClient } from "./http.js";
import { outputFormat, type OutputFormat } from "./output.js";
import { newTraceContext } from "./trace-context.js";

export const CONNECTION_FLAGS: FlagSpec[] = [
  { name: "hub", env: "FLOTILLA_HUB_URL", type: "string", description: "the hub's fleet API URL (default: the current context's)" },
  { name: "token", env: "FLOTILLA_TOKEN", type: "string", description: "API token (default: the current context's token or tokenFile)" },
  { name: "context", env: "FLOTILLA_CONTEXT", type: "string", description: "context of the config file to use (FLOTILLA_CONFIG, default ~/.config/flotilla/config.yaml)" },
  // People read stdout and the error line on stderr; the JSON log lines (stderr) are for debugging
  // and log shippers, so they start at warn: `--log-level debug` shows every request.
  { name: "log-level", env: LOG_LEVEL_ENV, type: "string", description: "JSON log lines on stderr from this level: debug shows each request with its status, time and trace id (default warn)" },
];

export const OUTPUT_FLAG: FlagSpec = { name: "output", env: "FLOTILLA_OUTPUT", type: "string", description: "-o: table (for people), json or yaml (the API's body, for scripts)", default: "table" };

/** `-o json`, `-ojson` and `-o=json` → `--output json` (the flag parser knows long flags only). */
export function expandShortFlags(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      out.push(...argv.slice(i));
      break;
    }
    if (a === "-o") out.push("--output");
    else if (a.startsWith("-o=")) out.push(`--output=${a.slice(3)}`);
    else if (/^-o[a-z]+$/.test(a)) out.push(`--output=${a.slice(2)}`);
    else if (a === "-h") out.push("--help");
    else out.push(a);
  }
  return out;
}

export interface Invocation {
  p: Parsed;
  spec: CommandSpec;
  format: OutputFormat;
  /** Connects lazily, so usage errors are found before a missing hub is. */
  client(): HubClient;
  /** The command's pino logger (component "cli", the command, the invocation's trace id). */
  log: ProcessLogger;
  str(name: string): string | undefined;
  bool(name: string): boolean;
  list(name: string): string[];
}

export function withApiFlags(spec: CommandSpec, { output = true }: { output?: boolean } = {}): CommandSpec {
  return { ...spec, flags: [...spec.flags, ...(output ? [OUTPUT_FLAG] : []), ...CONNECTION_FLAGS] };
}

/** Parses, prints help, runs `body`, and maps API errors to their messages and exit codes. */
export async function runApi(spec: CommandSpec, argv: string[], body: (inv: Invocation) => Promise<number>, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const p = parseCommand(spec, expandShortFlags(argv), env);
  if (p.help) {
    console.log(helpText(spec));
    return Exit.Ok;
  }
  const str = (name: string) => {
    const v = p.values[name];
    return typeof v === "string" && v.length > 0 ? v : undefined;
  };
  const hasOutput = spec.flags.some((f) => f.name === "output");
  const format = hasOutput ? outputFormat(p.values.output, spec.name) : "table";
  const trace = newTraceContext();
  const log = createProcessLogger({ component: "cli", level: parseLogLevel(str("log-level"), "warn") }).child({ command: spec.name, trace_id: trace.traceId });
  let client: HubClient | undefined;
  let connection: Connection | undefined;
  const inv: Invocation = {
    p,
    spec,
    format,
    log,
    client() {
      connection ??= resolveConnection(spec.name, { hub: str("hub"), token: str("token"), context: str("context") }, env);
      client ??= new HubClient(connection, log, trace);
      return client;
    },
    str,
    bool: (name) => p.values[name] === true,
    list: (name) => {
      const v = p.values[name];
      return Array.isArray(v) ? v : typeof v === "string" ? [v] : [];
    },
  };
  try {
    return await body(inv);
  } catch (err) {
    if (err instanceof ApiError) {
      const field = err.field ? ` (field ${err.field})` : "";
      const retry = err.retryAfter ? ` — retry after ${err.retryAfter} s` : "";
      console.error(`flotilla ${spec.name}: ${err.code}: ${err.message}${field}${retry}`);
      if (err.status === 401) console.error(`  the hub did not accept the token${connection?.context ? ` of context "${connection.context}"` : ""}; check --token, FLOTILLA_TOKEN or the context's token`);
      return exitCodeOf(err);
    }
    if (err instanceof ConnectionError) {
      console.error(`flotilla ${spec.name}: ${err.message}`);
      return Exit.Error;
    }
    throw err;
  }
}

/** The positionals a verb expects, or a usage error naming what is missing or extra. */
export function positionals(inv: Invocation, names: string[], { optional = 0 }: { optional?: number } = {}): (string | undefined)[] {
  const got = inv.p.positionals;
  const required = names.length - optional;
  if (got.length < required) throw new UsageError(`flotilla ${inv.spec.name}: missing ${names.slice(got.length, required).join(" ")}\nUsage: ${inv.spec.usage}`);
  if (got.length > names.length) throw new UsageError(`flotilla ${inv.spec.name}: unexpected argument "${got[names.length]}"\nUsage: ${inv.spec.usage}`);
  return names.map((_, i) => got[i]);
}

export function requireFlag(inv: Invocation, name: string, what: string): string {
  const v = inv.str(name);
  if (v === undefined) throw new UsageError(`flotilla ${inv.spec.name}: --${name} is required: ${what}\nUsage: ${inv.spec.usage}`);
  return v;
}
