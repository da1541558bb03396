// Where a running hub gets its API tokens: a file (re-read when it changes, so tokens rotate
// without a restart — a mounted Kubernetes Secret updates in place) or an environment variable
// holding the same JSON. A file that turns bad keeps the last good tokens serving, and says why.
import { readFileSync, statSync, unwatchFile, watchFile } from "node:fs";
import { ErrorCode, FlotillaError } from "@flotilla/model";
import { ApiTokenRegistry, parseApiTokensFile } from "./api/api-tokens.js";

export const API_TOKENS_FILE_ENV = "FLOTILLA_API_TOKENS_FILE";
export const API_TOKENS_ENV = "FLOTILLA_API_TOKENS";

export interface ApiTokensSource {
  registry: ApiTokenRegistry;
  /** Stops watching the file. */
  close(): void;
}

export interface TokensLog {
  info(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

function readTokens(path: string) {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new FlotillaError(ErrorCode.ConfigInvalid, `API tokens file ${path} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}); create it with \`flotilla token mint --file ${path}\``, { location: { file: path } });
  }
  const entries = parseApiTokensFile(text, path);
  if (entries.length === 0) throw new FlotillaError(ErrorCode.ConfigInvalid, `API tokens file ${path} grants no tokens; add one with \`flotilla token mint --file ${path}\``, { location: { file: path, field: "tokens" } });
  return entries;
}

/** Loads the tokens file (throws on a bad one: a hub must not start with no way in) and watches it. */
export function openApiTokensFile(path: string, log: TokensLog, pollMs = 2000): ApiTokensSource {
  const registry = new ApiTokenRegistry(readTokens(path));
  let lastMtime = statSync(path).mtimeMs;
  const onChange = (current: { mtimeMs: number }) => {
    if (current.mtimeMs === lastMtime || current.mtimeMs === 0) return;
    lastMtime = current.mtimeMs;
    try {
      const entries = readTokens(path);
      registry.replace(entries);
      log.info({ file: path, tokens: entries.length }, "API tokens reloaded");
    } catch (err) {
      log.error({ file: path, err: (err as Error).message }, "API tokens file rejected; the previous tokens keep serving");
    }
  };
  watchFile(path, { interval: pollMs, persistent: false }, onChange);
  return { registry, close: () => unwatchFile(path, onChange) };
}

/** Tokens given inline in FLOTILLA_API_TOKENS (same JSON as the file). */
export function apiTokensFromEnv(value: string): ApiTokenRegistry {
  const entries = parseApiTokensFile(value, API_TOKENS_ENV);
  if (entries.length === 0) throw new FlotillaError(ErrorCode.ConfigInvalid, `${API_TOKENS_ENV} grants no tokens`, { location: { field: API_TOKENS_ENV } });
  return new ApiTokenRegistry(entries);
}
