// Opens the hub's database: Postgres through a pg Pool when a URL is given, otherwise PGlite
// (in memory, or in a directory) for a single-process hub without a database server.
import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import { ErrorCode, FlotillaError } from "@flotilla/model";
import { PGliteDialect } from "./pglite-dialect.js";
import type { FleetSchema } from "./schema.js";
import { resultParsers } from "./type-parsers.js";

export interface OpenDatabaseOptions {
  /** `postgres://…` → Postgres via a pg Pool; undefined → PGlite. */
  url?: string;
  /** PGlite data directory; undefined = in memory. Ignored when `url` is set. */
  pgliteDir?: string;
  /** pg Pool size (default 10). */
  maxConnections?: number;
}

export interface FleetDatabase {
  db: Kysely<FleetSchema>;
  /** "postgres" or "pglite": which engine serves this database. */
  engine: "postgres" | "pglite";
  close(): Promise<void>;
}

export async function openDatabase(options: OpenDatabaseOptions = {}): Promise<FleetDatabase> {
  if (options.url !== undefined) return openPostgres(options.url, options.maxConnections ?? 10);
  return openPGlite(options.pgliteDir);
}

function openPostgres(url: string, max: number): FleetDatabase {
  if (!/^postgres(ql)?:\/\//.test(url)) {
    throw new FlotillaError(ErrorCode.ConfigInvalid, `database url must start with postgres:// (got "${redact(url)}")`, {
      location: { field: "DATABASE_URL" },
    });
  }
  // Per-pool type parsers: never mutate pg's global parser table (other code shares it).
  const types = {
    getTypeParser: (oid: number, format?: "text" | "binary") => {
      const parse = resultParsers[oid];
      return parse ?? pg.types.getTypeParser(oid, format as "text");
    },
  };
  const pool = new pg.Pool({
    connectionString: url,
    max,
    types: types as pg.CustomTypesConfig,
    // Fail a connect to an unreachable server instead of hanging: ingest then naks and retries.
    connectionTimeoutMillis: 10_000,
    keepAlive: true,
  });
  // An idle client losing its connection must not crash the process; the next query reconnects.
  pool.on("error", () => {});
  // Nor a checked-out one: pg emits "error" on a client whose connection ends unexpectedly even
  // when its query already failed with it, and the pool listens only while the client is idle. The
  // query's caller gets the error; the pool drops the dead client on release. (Found by the HA
  // partition test: a reset of the hub's connections crashed it.)
  pool.on("connect", (client) => client.on("error", () => {}));
  const db = new Kysely<FleetSchema>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    engine: "postgres",
    close: async () => {
      await db.destroy();
      // kysely only ends a pool it initialised (on a first query): end it in any case.
      if (!pool.ended) await pool.end();
    },
  };
}

async function openPGlite(dataDir: string | undefined): Promise<FleetDatabase> {
  // Loaded lazily: the WASM build is large and a Postgres-backed hub never needs it.
  const { PGlite } = await import("@electric-sql/pglite");
  const pglite = await PGlite.create(dataDir === undefined ? {} : { dataDir });
  const db = new Kysely<FleetSchema>({ dialect: new PGliteDialect(pglite) });
  return {
    db,
    engine: "pglite",
    close: async () => {
      await db.destroy();
      // kysely only destroys a driver it initialised (on a first query): close PGlite in any case.
      if (!pglite.closed) await pglite.close();
    },
  };
}

/** Hides a password in a connection string for messages. */
function redact(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, "//$1:***@");
}
