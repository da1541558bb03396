// A real Git smart-HTTP server for tests and the demo: Debian's `git http-backend` (CGI) behind a
// small node:http bridge on 127.0.0.1 that checks a token sent as HTTP Basic auth (as username or
// password, like GitHub's x-access-token). Repositories are bare and accept pushes.
import { spawn, execFileSync } from "node:child_process";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";

export const GIT_HTTP_BACKEND = process.env.GIT_HTTP_BACKEND ?? "/usr/lib/git-core/git-http-backend";

export interface GitHttpServerOptions {
  /** Token required on every request; absent = no authentication. */
  token?: string;
  /** Directory holding the bare repositories; default a fresh temporary directory (removed on close). */
  root?: string;
  /** Called when git-http-backend has finished a request, before the response's end reaches the
   * client: for a push (`POST …/git-receive-pack`) the refs are updated by then. Lets a test act
   * at that instant, e.g. kill the pushing process before it learns the push succeeded. */
  onServed?: (request: { method: string; path: string }) => void;
}

export interface GitHttpServer {
  /** `http://127.0.0.1:<port>` */
  readonly baseUrl: string;
  readonly root: string;
  /** Requests served, and requests refused for a missing or wrong token. */
  readonly stats: { requests: number; refused: number };
  /** Creates `<root>/<name>.git` (bare, pushes allowed) and returns its URL. */
  createBareRepo(name: string, opts?: { branch?: string }): string;
  url(name: string): string;
  close(): Promise<void>;
}

export async function startGitHttpServer(opts: GitHttpServerOptions = {}): Promise<GitHttpServer> {
  const ownRoot = !opts.root;
  const root = opts.root ?? mkdtempSync(join(tmpdir(), "flotilla-git-http-"));
  const stats = { requests: 0, refused: 0 };

  const server = createServer((req, res) => {
    stats.requests++;
    if (opts.token && !authorized(req, opts.token)) {
      stats.refused++;
      res.writeHead(401, { "WWW-Authenticate": 'Basic realm="flotilla-test-git"', "Content-Type": "text/plain" });
      res.end("authentication required\n");
      return;
    }
    serveWithBackend(root, req, res, opts.onServed);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;

  return {
    baseUrl,
    root,
    stats,
    url: (name) => `${baseUrl}/${name}.git`,
    createBareRepo(name, o = {}) {
      const dir = join(root, `${name}.git`);
      execFileSync("git", ["init", "--quiet", "--bare", `--initial-branch=${o.branch ?? "main"}`, dir]);
      execFileSync("git", ["-C", dir, "config", "http.receivepack", "true"]);
      return `${baseUrl}/${name}.git`;
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (ownRoot) rmSync(root, { recursive: true, force: true });
    },
  };
}

function authorized(req: IncomingMessage, token: string): boolean {
  const header = req.headers.authorization ?? "";
  const m = /^Basic\s+(.+)$/i.exec(header);
  if (!m) return false;
  const decoded = Buffer.from(m[1]!, "base64").toString("utf8");
  const i = decoded.indexOf(":");
  const user = i < 0 ? decoded : decoded.slice(0, i);
  const pass = i < 0 ? "" : decoded.slice(i + 1);
  return user === token || pass === token;
}

/** Runs one request through git-http-backend (CGI): request body → stdin, stdout → headers + body. */
function serveWithBackend(root: string, req: IncomingMessage, res: ServerResponse, onServed?: GitHttpServerOptions["onServed"]): void {
  const url = new URL(req.url ?? "/", "http://127.0.0.1");
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    GIT_PROJECT_ROOT: root,
    GIT_HTTP_EXPORT_ALL: "1",
    // Pushes need a user: the token holder.
    REMOTE_USER: "flotilla-test",
    REMOTE_ADDR: req.socket.remoteAddress ?? "127.0.0.1",
    REQUEST_METHOD: req.method ?? "GET",
    PATH_INFO: decodeURIComponent(url.pathname),
    QUERY_STRING: url.search.replace(/^\?/, ""),
    CONTENT_TYPE: req.headers["content-type"] ?? "",
    ...(req.headers["content-length"] ? { CONTENT_LENGTH: req.headers["content-length"] } : {}),
    ...(req.headers["content-encoding"] ? { HTTP_CONTENT_ENCODING: req.headers["content-encoding"] } : {}),
    ...(req.headers["git-protocol"] ? { GIT_PROTOCOL: String(req.headers["git-protocol"]) } : {}),
  };
  const cgi = spawn(GIT_HTTP_BACKEND, [], { env, stdio: ["pipe", "pipe", "pipe"] });
  // The backend may exit before reading the whole body (an error); that must not crash the test.
  cgi.stdin.on("error", () => undefined);
  req.pipe(cgi.stdin);
  res.on("close", () => {
    if (cgi.exitCode === null) cgi.kill();
  });
  let head = Buffer.alloc(0);
  let headersDone = false;
  let stderr = "";
  cgi.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  cgi.stdout.on("data", (chunk: Buffer) => {
    if (headersDone) {
      res.write(chunk);
      return;
    }
    head = Buffer.concat([head, chunk]);
    const crlf = head.indexOf("\r\n\r\n");
    const lf = head.indexOf("\n\n");
    const end = crlf >= 0 && (lf < 0 || crlf < lf) ? crlf : lf;
    if (end < 0) return;
    const sepLen = end === crlf ? 4 : 2;
    let status = 200;
    const headers: Record<string, string> = {};
    for (const line of head.subarray(0, end).toString("utf8").split(/\r?\n/)) {
      const i = line.indexOf(":");
      if (i < 0) continue;
      const name = line.slice(0, i).trim();
      const value = line.slice(i + 1).trim();
      if (name.toLowerCase() === "status") status = Number.parseInt(value, 10) || 200;
      else headers[name] = value;
    }
    res.writeHead(status, headers);
    headersDone = true;
    const rest = head.subarray(end + sepLen);
    if (rest.length) res.write(rest);
  });
  cgi.on("close", (code) => {
    if (!headersDone) {
      res.writeHead(500, { "Content-Type": "text/plain" });
      res.end(`git http-backend failed (exit ${code}): ${stderr}\n`);
      return;
    }
    onServed?.({ method: req.method ?? "GET", path: url.pathname });
    res.end();
  });
  cgi.on("error", (err) => {
    if (!res.headersSent) res.writeHead(500, { "Content-Type": "text/plain" });
    res.end(`cannot run ${GIT_HTTP_BACKEND}: ${err.message}\n`);
  });
}
