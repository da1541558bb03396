// API tokens: who a bearer token speaks for. At rest only a SHA-256 digest of each token is kept
// (a JSON file, or the same JSON in an environment variable), with the subject and roles it grants.
//
// Why SHA-256 and not a password hash: tokens are 256 random bits minted by `flotilla token mint`,
// not words a person chose, so a leaked file gives nothing to brute-force, and a fast digest keeps
// every request cheap. A slow hash (scrypt, argon2) would only add latency to each call.
import { createHash, randomBytes } from "node:crypto";
import { ErrorCode, FlotillaError } from "@flotilla/model";
import { Role, type Principal } from "./principal.js";

/** One grant in the tokens file. */
export interface ApiTokenEntry {
  subject: string;
  roles: readonly Role[];
  /** Environments a promoter may promote into ("*" = all); defaults to none. */
  environments: readonly string[];
  groups: readonly string[];
  /** Hex SHA-256 of the token. */
  sha256: string;
  /** After this instant the token is refused. */
  expiresAt?: string;
}

export interface ApiTokensFile {
  tokens: ApiTokenEntry[];
}

/** What `flotilla token mint` asks for. */
export interface ApiTokenGrant {
  subject: string;
  roles: readonly Role[];
  environments?: readonly string[];
  groups?: readonly string[];
  expiresAt?: Date;
}

export const API_TOKEN_PREFIX = "flt_";
const ROLES = Object.values(Role) as string[];
const SUBJECT = /^[A-Za-z0-9][A-Za-z0-9._@:+-]{0,127}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;

export const apiTokenDigest = (token: string): string => createHash("sha256").update(token).digest("hex");

/** A new random token and the entry that grants it; the token itself is shown once and never stored. */
export function mintApiToken(grant: ApiTokenGrant): { token: string; entry: ApiTokenEntry } {
  const token = API_TOKEN_PREFIX + randomBytes(32).toString("base64url");
  const entry = validEntry(
    {
      subject: grant.subject,
      roles: grant.roles,
      environments: grant.environments ?? [],
      groups: grant.groups ?? [],
      sha256: apiTokenDigest(token),
      ...(grant.expiresAt ? { expiresAt: grant.expiresAt.toISOString() } : {}),
    },
    "the new token",
    "",
  );
  return { token, entry };
}

/**
 * Parses a tokens file (`source` names it in errors: a path, or the environment variable). Every
 * mistake names the entry and field, so a bad file is refused whole rather than half-loaded.
 */
export function parseApiTokensFile(text: string, source: string): ApiTokenEntry[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw invalid(source, "", `is not JSON (${(err as Error).message}); create it with \`flotilla token mint\``);
  }
  if (doc === null || typeof doc !== "object" || !Array.isArray((doc as { tokens?: unknown }).tokens)) {
    throw invalid(source, "tokens", `must be an object with a "tokens" list`);
  }
  const entries = (doc as { tokens: unknown[] }).tokens.map((raw, i) => validEntry(raw, source, `tokens[${i}]`));
  const seen = new Map<string, string>();
  entries.forEach((e, i) => {
    const other = seen.get(e.sha256);
    if (other !== undefined) throw invalid(source, `tokens[${i}].sha256`, `is the same token as ${other}; mint a new token for each grant`);
    seen.set(e.sha256, `tokens[${i}]`);
  });
  return entries;
}

export function serializeApiTokensFile(entries: readonly ApiTokenEntry[]): string {
  return JSON.stringify({ tokens: entries }, null, 2) + "\n";
}

function validEntry(raw: unknown, source: string, at: string): ApiTokenEntry {
  const field = (name: string): string => (at ? `${at}.${name}` : name);
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) throw invalid(source, at, "must be an object");
  const r = raw as Record<string, unknown>;
  for (const key of Object.keys(r)) {
    if (!["subject", "roles", "environments", "groups", "sha256", "expiresAt"].includes(key)) {
      throw invalid(source, field(key), "unknown field; accepted: subject, roles, environments, groups, sha256, expiresAt");
    }
  }
  if (typeof r.subject !== "string" || !SUBJECT.test(r.subject)) {
    throw invalid(source, field("subject"), "required: a name of letters, digits and . _ @ : + - (it is the actor of every audit row)");
  }
  const list = (name: string, check?: (v: string) => boolean): string[] => {
    const v = r[name] ?? [];
    if (!Array.isArray(v) || v.some((x) => typeof x !== "string" || x.length === 0 || (check !== undefined && !check(x)))) {
      throw invalid(source, field(name), name === "roles" ? `must be a list of ${ROLES.join(", ")}` : "must be a list of non-empty strings");
    }
    return v as string[];
  };
  const roles = list("roles", (x) => ROLES.includes(x)) as Role[];
  if (roles.length === 0) throw invalid(source, field("roles"), `give at least one of ${ROLES.join(", ")}`);
  const environments = list("environments");
  const groups = list("groups");
  if (typeof r.sha256 !== "string" || !SHA256_HEX.test(r.sha256)) {
    throw invalid(source, field("sha256"), "required: the hex SHA-256 of the token (64 lowercase hex digits), as `flotilla token mint` writes it");
  }
  let expiresAt: string | undefined;
  if (r.expiresAt !== undefined) {
    if (typeof r.expiresAt !== "string" || Number.isNaN(Date.parse(r.expiresAt))) throw invalid(source, field("expiresAt"), "must be an ISO-8601 timestamp");
    expiresAt = new Date(r.expiresAt).toISOString();
  }
  return { subject: r.subject, roles, environments, groups, sha256: r.sha256, ...(expiresAt ? { expiresAt } : {}) };
}

function invalid(source: string, field: string, message: string): FlotillaError {
  return new FlotillaError(ErrorCode.ConfigInvalid, `${source}${field ? `: ${field}` : ""} ${message}`, { location: { file: source, ...(field ? { field } : {}) } });
}

/**
 * The tokens a running hub accepts. `replace` swaps the whole set at once (the hub re-reads the
 * file when it changes), so a rotation never leaves a moment with neither token accepted.
 */
export class ApiTokenRegistry {
  private byDigest = new Map<string, ApiTokenEntry>();

  constructor(entries: readonly ApiTokenEntry[]) {
    this.replace(entries);
  }

  replace(entries: readonly ApiTokenEntry[]): void {
    this.byDigest = new Map(entries.map((e) => [e.sha256, e]));
  }

  get size(): number {
    return this.byDigest.size;
  }

  /** The principal for a token, or why it is refused. */
  authenticate(token: string, now: Date): { principal: Principal } | { refused: string } {
    const entry = this.byDigest.get(apiTokenDigest(token));
    if (!entry) return { refused: "the bearer token is not one this hub accepts" };
    if (entry.expiresAt !== undefined && Date.parse(entry.expiresAt) <= now.getTime()) {
      return { refused: `the token of "${entry.subject}" expired at ${entry.expiresAt}; mint a new one` };
    }
    return { principal: { subject: entry.subject, roles: entry.roles, environments: entry.environments, groups: entry.groups } };
  }
}
