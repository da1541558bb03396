// Where the fleet API is and who we are to it: flags and environment first (--hub / FLOTILLA_HUB_URL,
// --token / FLOTILLA_TOKEN), then a kubeconfig-like file (~/.config/flotilla/config.yaml, or
// FLOTILLA_CONFIG) with named contexts and a current one (--context / FLOTILLA_CONTEXT picks another).
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { parse as parseYaml, stringify as stringifyYaml } from "yaml";
import { UsageError } from "../args.js";

export const CONFIG_ENV = "FLOTILLA_CONFIG";

export interface Context {
  name: string;
  hub: string;
  token?: string;
  tokenFile?: string;
}

export interface ClientConfig {
  "current-context"?: string;
  contexts: Context[];
}

/** A config file that cannot be used: exit 2, with the file and the field named. */
export class ConfigError extends UsageError {}

export function configPath(env: NodeJS.ProcessEnv = process.env): string {
  const p = env[CONFIG_ENV];
  if (p) return p;
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), ".config");
  return join(base, "flotilla", "config.yaml");
}

function expandHome(p: string, env: NodeJS.ProcessEnv): string {
  return p === "~" || p.startsWith("~/") ? join(env.HOME || homedir(), p.slice(1)) : p;
}

export function readConfig(path: string): ClientConfig {
  if (!existsSync(path)) return { contexts: [] };
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(path, "utf8"));
  } catch (err) {
    throw new ConfigError(`${path}: not valid YAML: ${(err as Error).message}`);
  }
  if (doc === null || doc === undefined) return { contexts: [] };
  if (typeof doc !== "object" || Array.isArray(doc)) throw new ConfigError(`${path}: must be a mapping with "contexts" and "current-context"`);
  const d = doc as Record<string, unknown>;
  const current = d["current-context"];
  if (current !== undefined && current !== null && typeof current !== "string") throw new ConfigError(`${path}: current-context must be a context name`);
  const list = d.contexts ?? [];
  if (!Array.isArray(list)) throw new ConfigError(`${path}: contexts must be a list of {name, hub, token | tokenFile}`);
  const contexts = list.map((raw, i): Context => {
    const where = `${path}: contexts[${i}]`;
    if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw new ConfigError(`${where} must be a mapping {name, hub, token | tokenFile}`);
    const c = raw as Record<string, unknown>;
    for (const key of Object.keys(c)) if (!["name", "hub", "token", "tokenFile"].includes(key)) throw new ConfigError(`${where}.${key}: unknown field; accepted: name, hub, token, tokenFile`);
    if (typeof c.name !== "string" || c.name === "") throw new ConfigError(`${where}.name: required, a non-empty string`);
    if (typeof c.hub !== "string" || c.hub === "") throw new ConfigError(`${where}.hub: required, the hub's URL (context "${c.name}")`);
    if (c.token !== undefined && typeof c.token !== "string") throw new ConfigError(`${where}.token: must be a string`);
    if (c.tokenFile !== undefined && typeof c.tokenFile !== "string") throw new ConfigError(`${where}.tokenFile: must be a path`);
    if (c.token !== undefined && c.tokenFile !== undefined) throw new ConfigError(`${where}: give token or tokenFile, not both (context "${c.name}")`);
    return { name: c.name, hub: c.hub, ...(c.token !== undefined ? { token: c.token } : {}), ...(c.tokenFile !== undefined ? { tokenFile: c.tokenFile } : {}) };
  });
  const names = new Set<string>();
  for (const c of contexts) {
    if (names.has(c.name)) throw new ConfigError(`${path}: context "${c.name}" is defined twice`);
    names.add(c.name);
  }
  return { ...(typeof current === "string" ? { "current-context": current } : {}), contexts };
}

/** Write-then-rename, mode 0600: the file may hold tokens. */
export function writeConfig(path: string, config: ClientConfig): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.tmp-${process.pid}`;
  const doc = { ...(config["current-context"] ? { "current-context": config["current-context"] } : {}), contexts: config.contexts };
  writeFileSync(tmp, stringifyYaml(doc), { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

export interface Connection {
  hub: string;
  token: string;
  /** Where the connection came from, for error messages. */
  context?: string;
}

export interface ConnectionFlags {
  hub?: string | undefined;
  token?: string | undefined;
  context?: string | undefined;
}

/** The hub URL and token of this invocation, or a usage error saying what is missing and how to give it. */
export function resolveConnection(command: string, flags: ConnectionFlags, env: NodeJS.ProcessEnv = process.env): Connection {
  const path = configPath(env);
  const needConfig = !flags.hub || !flags.token || flags.context !== undefined;
  const config = needConfig ? readConfig(path) : { contexts: [] };
  let ctx: Context | undefined;
  if (flags.context !== undefined) {
    ctx = config.contexts.find((c) => c.name === flags.context);
    if (!ctx) {
      const known = config.contexts.map((c) => c.name);
      throw new ConfigError(`flotilla ${command}: context "${flags.context}" is not in ${path}${known.length ? ` (contexts: ${known.join(", ")})` : " (it has no contexts; add one with flotilla context set)"}`);
    }
  } else if (config["current-context"]) {
    ctx = config.contexts.find((c) => c.name === config["current-context"]);
    if (!ctx && (!flags.hub || !flags.token)) throw new ConfigError(`flotilla ${command}: current-context "${config["current-context"]}" of ${path} names no context; run flotilla context use NAME`);
  }
  const hub = flags.hub || ctx?.hub;
  if (!hub) {
    throw new UsageError(
      `flotilla ${command}: no hub to talk to: give --hub URL (or FLOTILLA_HUB_URL), or a context in ${path} ` +
        `(flotilla context set NAME --hub URL --token-file FILE)`,
    );
  }
  let token = flags.token;
  if (!token && ctx?.tokenFile) {
    const file = resolve(dirname(path), expandHome(ctx.tokenFile, env));
    try {
      token = readFileSync(isAbsolute(file) ? file : resolve(file), "utf8").trim();
    } catch (err) {
      throw new ConfigError(`flotilla ${command}: context "${ctx.name}": tokenFile ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
    if (!token) throw new ConfigError(`flotilla ${command}: context "${ctx.name}": tokenFile ${file} is empty`);
  }
  if (!token && ctx?.token) token = ctx.token;
  if (!token) {
    throw new UsageError(
      `flotilla ${command}: no API token for ${hub}: give --token TOKEN (or FLOTILLA_TOKEN), or token/tokenFile in a context of ${path}` +
        ` (a hub admin mints one: flotilla token mint --subject you --role viewer)`,
    );
  }
  return { hub: hub.replace(/\/+$/, ""), token, ...(ctx ? { context: ctx.name } : {}) };
}
