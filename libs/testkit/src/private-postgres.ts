// A private PostgreSQL 15 instance for tests that must stop and start a database server (outages)
// — the shared server at 127.0.0.1:5432 cannot be touched. Its own data directory, port and
// socket directory under tmp; trust auth on loopback. initdb refuses to run as root, so as root
// every server command runs as the `postgres` user on a directory it owns.
import { execFile } from "node:child_process";
import { chownSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";
import { freePort } from "./private-nats.js";

const run = promisify(execFile);

export const POSTGRES_BIN = process.env.FLOTILLA_TEST_PG_BIN ?? "/usr/lib/postgresql/15/bin";

export interface PrivatePostgres {
  port: number;
  /** Connection string of the `postgres` database (superuser, trust). */
  adminUrl: string;
  /** A fresh database on this server; its URL. */
  createDatabase(name: string): Promise<string>;
  /** Fast shutdown (`pg_ctl stop -m fast`): clients are disconnected, in-flight transactions roll back. */
  stop(): Promise<void>;
  start(): Promise<void>;
  /** Immediate shutdown and removal of the data directory. */
  dispose(): Promise<void>;
}

async function asServerUser(cmd: string, args: string[]): Promise<void> {
  const asRoot = process.getuid?.() === 0;
  const [file, argv] = asRoot ? ["runuser", ["-u", "postgres", "--", cmd, ...args]] : [cmd, args];
  await run(file, argv, { timeout: 120_000 });
}

export async function privatePostgres(): Promise<PrivatePostgres> {
  const dir = mkdtempSync(join(tmpdir(), "flotilla-pg-"));
  if (process.getuid?.() === 0) {
    const { uid, gid } = await postgresIds();
    chownSync(dir, uid, gid);
  }
  const data = join(dir, "data");
  const port = await freePort();
  await asServerUser(join(POSTGRES_BIN, "initdb"), ["-D", data, "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8"]);
  const ctl = (...args: string[]) => asServerUser(join(POSTGRES_BIN, "pg_ctl"), ["-D", data, ...args]);
  // fsync off: a test server, its data dies with the test anyway.
  const start = () => ctl("-w", "-l", join(dir, "log"), "-o", `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, "start");
  await start();
  const adminUrl = `postgres://postgres@127.0.0.1:${port}/postgres`;
  return {
    port,
    adminUrl,
    async createDatabase(name) {
      const c = new pg.Client({ connectionString: adminUrl });
      await c.connect();
      try {
        await c.query(`CREATE DATABASE "${name}"`);
      } finally {
        await c.end();
      }
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    stop: () => ctl("-w", "-m", "fast", "stop"),
    start,
    async dispose() {
      await ctl("-w", "-m", "immediate", "stop").catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function postgresIds(): Promise<{ uid: number; gid: number }> {
  const { stdout: u } = await run("id", ["-u", "postgres"]);
  const { stdout: g } = await run("id", ["-g", "postgres"]);
  return { uid: Number(u.trim()), gid: Number(g.trim()) };
}
