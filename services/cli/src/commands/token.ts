// `flotilla token mint|list|revoke`: manage the hub's API tokens file. The file holds only SHA-256
// digests; a minted token is printed once, on stdout alone, so `TOKEN=$(flotilla token mint …)`
// captures it and nothing else. The hub re-reads the file when it changes.
import { chmodSync, existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { parseDuration } from "@flotilla/envrepo";
import { mintApiToken, parseApiTokensFile, Role, serializeApiTokensFile, type ApiTokenEntry } from "@flotilla/hub";
import { helpText, parseCommand, requireString, UsageError, type CommandSpec, type Parsed } from "../args.js";

const ROLES = Object.values(Role).join(", ");

export const tokenCommand: CommandSpec = {
  name: "token",
  summary: "Mint, list and revoke fleet API tokens (the hub's --api-tokens file).",
  usage: "flotilla token mint --subject NAME --role ROLE [--environment ENV]... [--group G]... [--expires-in 90d] [--file FILE]\n       flotilla token list --file FILE\n       flotilla token revoke --subject NAME --file FILE",
  flags: [
    { name: "file", env: "FLOTILLA_API_TOKENS_FILE", type: "string", description: "the tokens file (created on first mint, mode 0600)" },
    { name: "subject", type: "string", description: "who the token speaks for: the actor of every audit row" },
    { name: "role", type: "string", multiple: true, description: `role to grant, repeatable: ${ROLES}` },
    { name: "environment", type: "string", multiple: true, description: 'environment a promoter may promote into, repeatable ("*" = all)' },
    { name: "group", type: "string", multiple: true, description: "group the subject belongs to (approval gates may require one), repeatable" },
    { name: "expires-in", type: "string", description: "lifetime such as 90d or 12h (default: no expiry)" },
  ],
};

const list = (p: Parsed, name: string): string[] => (p.values[name] as string[] | undefined) ?? [];

function readFile(path: string): ApiTokenEntry[] {
  return existsSync(path) ? parseApiTokensFile(readFileSync(path, "utf8"), path) : [];
}

/** Write-then-rename, so a hub watching the file never reads half of it. */
function writeFile(path: string, entries: readonly ApiTokenEntry[]): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, serializeApiTokensFile(entries), { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

function mint(p: Parsed): number {
  const subject = requireString(p, tokenCommand, "subject");
  const roles = list(p, "role");
  if (roles.length === 0) throw new UsageError(`flotilla token mint: give at least one --role (${ROLES})`);
  let expiresAt: Date | undefined;
  if (typeof p.values["expires-in"] === "string") {
    const ms = parseDuration(p.values["expires-in"]);
    if (ms === undefined || ms <= 0) throw new UsageError(`flotilla token mint: --expires-in "${p.values["expires-in"]}" is not a duration such as 90d, 12h or 30m`);
    expiresAt = new Date(Date.now() + ms);
  }
  const { token, entry } = mintApiToken({ subject, roles: roles as Role[], environments: list(p, "environment"), groups: list(p, "group"), ...(expiresAt ? { expiresAt } : {}) });
  const file = p.values.file;
  if (typeof file === "string" && file.length > 0) {
    writeFile(file, [...readFile(file), entry]);
    console.error(`minted a token for "${subject}" (${entry.roles.join(", ")}) into ${file}; it is shown once, below`);
  } else {
    console.error(`minted a token for "${subject}"; add this entry to the hub's tokens file:\n${JSON.stringify(entry, null, 2)}`);
  }
  console.log(token);
  return 0;
}

function show(p: Parsed): number {
  const file = requireString(p, tokenCommand, "file");
  const entries = readFile(file);
  const rows = [["SUBJECT", "ROLES", "ENVIRONMENTS", "GROUPS", "EXPIRES", "DIGEST"], ...entries.map((e) => [e.subject, e.roles.join(","), e.environments.join(",") || "-", e.groups.join(",") || "-", e.expiresAt ?? "never", e.sha256.slice(0, 12)])];
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  for (const r of rows) console.log(r.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd());
  return 0;
}

function revoke(p: Parsed): number {
  const file = requireString(p, tokenCommand, "file");
  const subject = requireString(p, tokenCommand, "subject");
  const entries = readFile(file);
  const kept = entries.filter((e) => e.subject !== subject);
  if (kept.length === entries.length) {
    console.error(`flotilla token revoke: ${file} has no token of "${subject}"`);
    return 1;
  }
  writeFile(file, kept);
  console.error(`revoked ${entries.length - kept.length} token(s) of "${subject}" in ${file}`);
  return 0;
}

export async function runToken(argv: string[]): Promise<number> {
  const p = parseCommand(tokenCommand, argv);
  const [verb, ...extra] = p.positionals;
  if (p.help || !verb) {
    console.log(helpText(tokenCommand));
    return p.help ? 0 : 2;
  }
  if (extra.length > 0) throw new UsageError(`flotilla token: unexpected "${extra.join(" ")}"`);
  switch (verb) {
    case "mint":
      return mint(p);
    case "list":
      return show(p);
    case "revoke":
      return revoke(p);
    default:
      throw new UsageError(`flotilla token: unknown verb "${verb}"; use mint, list or revoke`);
  }
}
