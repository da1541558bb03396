// Bad-input property test of the fleet API (docs/bad-input.md), driven by the hub's own served
// GET /openapi.json on a real hub (PostgreSQL 15, NATS JetStream, the example env repo): for every
// route, seeded mutations of a body valid for its schema (wrong types, missing required, unknown
// fields, huge strings, deep nesting, NUL and lone surrogates, numbers out of range) and of its
// query and path parameters, plus invalid JSON and wrong content types. Every answer must be below
// 500; every 4xx a FLOTILLA_ERR_* code the route declares, a bad request naming the field; and a
// refused request must leave every table of the database as it was.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sql } from "kysely";
import { ErrorCode } from "@flotilla/model";
import { createWorkRepo, readFilesFrom } from "@flotilla/envrepo/testing";
import { createTestDatabase, createTestNats, type TestNats } from "@flotilla/testkit";
import { forEachSeed, mutateText, mutateValue, type Rng } from "@flotilla/testkit/mutate";
import { generateSigningKey } from "@flotilla/wire";
import { startHub, type Hub } from "../src/hub.js";
import { mintApiToken, Role } from "../src/api/index.js";

const EXAMPLE = fileURLToPath(new URL("../../../examples/env-repo", import.meta.url));

interface Schema {
  type?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  enum?: unknown[];
}
interface Operation {
  parameters?: { in: "query" | "path" | "header"; name: string; schema?: Schema }[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, { content?: { "application/json"?: { schema: { properties?: { error?: { properties: { code: { enum: string[] } } } } } } } }>;
}
type Doc = { paths: Record<string, Record<string, Operation>> };

/** A request that the route's schema accepts (names that exist in the example fleet). */
function sample(s: Schema, name = ""): unknown {
  switch (s.type) {
    case "object": {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(s.properties ?? {})) out[k] = sample(v, k);
      return out;
    }
    case "array":
      return Array.from({ length: Math.max(1, s.minItems ?? 1) }, () => sample(s.items ?? { type: "string" }, name));
    case "integer":
    case "number":
      return 1;
    case "boolean":
      return true;
    default:
      if (s.enum) return s.enum[0];
      if (s.pattern?.includes("sha256")) return `sha256:${"a".repeat(64)}`;
      return { app: "shop", environment: "prod", cluster: "dev-1", release: "rel-1", id: "p-1", name: "registry.example/shop" }[name] ?? "fuzz";
  }
}

type Segment = string | number;
/** Every (path, schema) inside a body schema. */
function fieldsOf(s: Schema, at: Segment[] = []): { path: Segment[]; schema: Schema; parent?: Schema }[] {
  const out: { path: Segment[]; schema: Schema; parent?: Schema }[] = [];
  for (const [k, v] of Object.entries(s.properties ?? {})) {
    out.push({ path: [...at, k], schema: v, parent: s }, ...fieldsOf(v, [...at, k]));
  }
  if (s.items) out.push(...fieldsOf(s.items, [...at, 0]));
  return out;
}

function setAt(root: unknown, path: Segment[], value: unknown, remove = false): unknown {
  const copy = structuredClone(root);
  let v = copy as Record<Segment, unknown>;
  for (const s of path.slice(0, -1)) v = v[s] as Record<Segment, unknown>;
  if (remove) delete v[path[path.length - 1]!];
  else v[path[path.length - 1]!] = value;
  return copy;
}

interface Case {
  what: string;
  body?: string;
  contentType?: string;
  /** The field a refusal must name, when the mutation touches one. */
  field?: string;
  /** The schema alone refuses it: a 400 naming `field`, whatever the route would do next. */
  refuse?: boolean;
  url?: string;
}

/** A textual mutation that is not JSON any more (some, like a tab between tokens, still are). */
function brokenJson(text: string, rng: Rng): string {
  const t = mutateText(text, rng).text;
  try {
    JSON.parse(t);
    return `${t}{`;
  } catch {
    return t;
  }
}

/** One schema-aware mutation of a valid body: the field it breaks is known. */
function schemaMutation(schema: Schema, valid: unknown, rng: Rng): Case {
  const fields = fieldsOf(schema);
  const json = (v: unknown) => JSON.stringify(v);
  const op = rng.int(fields.length ? 9 : 3);
  if (op === 0) return { what: "invalid JSON", body: brokenJson(json(valid), rng), field: "body", refuse: true };
  if (op === 1) return { what: "wrong content type", body: json(valid), contentType: rng.pick(["text/plain", "application/x-www-form-urlencoded", "application/xml", "multipart/form-data; boundary=x"]), field: "body", refuse: true };
  if (op === 2) return { what: "body not an object", body: json(rng.pick([[], "x", 1, null, [valid]])), field: "body", refuse: true };
  const f = rng.pick(fields);
  const c = pick(f);
  return { ...c, refuse: c.field !== undefined && !(op === 8 && f.schema.type !== "string" && f.schema.type !== "array" && f.schema.type !== "object") };
  function pick(f: { path: Segment[]; schema: Schema; parent?: Schema }): Case {
  const field = f.path.join(".");
  const type = f.schema.type;
  switch (op) {
    case 3:
      return { what: `wrong type at ${field}`, body: json(setAt(valid, f.path, type === "string" ? rng.pick([1, true, {}, [], null]) : rng.pick(["1", "x", null])) ), field };
    case 4: {
      const required = f.parent?.required?.includes(String(f.path[f.path.length - 1]));
      return required ? { what: `missing required ${field}`, body: json(setAt(valid, f.path, undefined, true)), field } : { what: `extra field next to ${field}`, body: json(setAt(valid, [...f.path.slice(0, -1), "unexpectedField"], 1)), field: [...f.path.slice(0, -1), "unexpectedField"].join(".") };
    }
    case 5:
      return { what: `huge string at ${field}`, body: json(setAt(valid, f.path, "x".repeat(f.schema.maxLength !== undefined ? rng.pick([f.schema.maxLength + 1, 300_000]) : 300_000))), field };
    case 6: {
      const nasty = rng.pick(["\u0000", "a\u0000b", "\uD800", "x\uDFFF", "\u202Eevil"]);
      const value = type === "string" || type === undefined ? `${String(sample(f.schema, String(f.path.at(-1))))}${nasty}` : nasty;
      // A right-to-left override is valid text: a free-text field may take it.
      return { what: `unicode ${JSON.stringify(nasty)} at ${field}`, body: json(setAt(valid, f.path, value)), ...(nasty.includes("\u202E") ? {} : { field }) };
    }
    case 7: {
      let deep: unknown = "x";
      for (let i = 0; i < rng.pick([50, 500, 5000]); i++) deep = i % 2 ? [deep] : { n: deep };
      return { what: `nest deep at ${field}`, body: json(setAt(valid, f.path, deep)), field };
    }
    default:
      return { what: `number out of range at ${field}`, body: json(setAt(valid, f.path, rng.pick([1e308, -1, 1.5, -0, 2 ** 53 + 1]))), field };
  }
  }
}

/** One mutation of the query string or path parameters. */
function paramMutation(url: string, op: Operation, rng: Rng): Case {
  const query = (op.parameters ?? []).filter((p) => p.in === "query");
  const path = (op.parameters ?? []).filter((p) => p.in === "path");
  const nasty = () => rng.pick(["%00", "a%00b", "%ED%A0%80", "%E2%80%AEx", "x".repeat(3000), "-1", "1e308", "99999999999999999999", "..%2F..%2Fetc", "%", "%zz", "yes", "__proto__"]);
  const fill = (u: string) => u.replace(/\{(\w+)\}/g, (_m, n: string) => encodeURIComponent(String(sample({ type: "string" }, n))));
  if (path.length && rng.int(2) === 0) {
    const p = rng.pick(path);
    return { what: `path parameter ${p.name}`, url: fill(url.replace(`{${p.name}}`, nasty())) };
  }
  const base = fill(url);
  // Every route refuses an undeclared parameter, also one that takes none (query-check.ts).
  if (!query.length) return rng.int(2) === 0 ? { what: "query parameter on a route that takes none", url: `${base}?unexpected=1`, field: "unexpected" } : { what: "no mutation of a route without parameters", url: base };
  if (rng.int(4) === 0) return { what: "unknown query parameter", url: `${base}?unexpected=1`, field: "unexpected" };
  const q = rng.pick(query);
  if (rng.int(3) === 0) return { what: `${q.name} twice`, url: `${base}?${q.name}=a&${q.name}=b`, field: q.name };
  return { what: `query ${q.name}`, url: `${base}?${q.name}=${nasty()}` };
}

describe("fleet API under bad input, from its own OpenAPI document (real hub, NATS, PostgreSQL)", () => {
  let nats: TestNats;
  let dir: string;
  let hub: Hub;
  let doc: Doc;
  let drop: () => Promise<void>;
  const admin = mintApiToken({ subject: "ada", roles: [Role.Admin], environments: ["*"] });

  beforeAll(async () => {
    nats = createTestNats("apifuzz");
    dir = await mkdtemp(join(tmpdir(), "hub-api-fuzz-"));
    await createWorkRepo(dir, await readFilesFrom(EXAMPLE));
    const testDb = await createTestDatabase("api_fuzz");
    drop = testDb.drop;
    hub = await startHub({
      auth: { tokens: [admin.entry] },
      webhookSecrets: ["webhook-secret-0123456789"],
      repo: { path: dir },
      databaseUrl: testDb.url,
      natsUrl: nats.url,
      natsPrefix: nats.prefix,
      signingKey: generateSigningKey(),
      port: 0,
      pollIntervalMs: 3_600_000,
      breakGlassSweepMs: 3_600_000,
      promotionTickMs: 3_600_000,
    });
    doc = (await (await fetch(`${hub.url}/openapi.json`)).json()) as Doc;
  }, 60_000);
  afterAll(async () => {
    await hub?.stop();
    await nats?.cleanup();
    await drop?.();
    await rm(dir, { recursive: true, force: true });
  });

  /** Every table's rows, as one fingerprint per table. */
  const snapshot = async (): Promise<Record<string, string>> => {
    const tables = (await sql<{ t: string }>`select tablename as t from pg_tables where schemaname = current_schema() order by 1`.execute(hub.database.db)).rows.map((r) => r.t);
    const out: Record<string, string> = {};
    for (const t of tables) {
      const r = await sql<{ h: string | null }>`select md5(string_agg(x::text, ',' order by x::text)) as h from ${sql.table(t)} x`.execute(hub.database.db);
      out[t] = r.rows[0]!.h ?? "";
    }
    return out;
  };

  const declaredCodes = (op: Operation): string[] => Object.values(op.responses).flatMap((r) => r.content?.["application/json"]?.schema.properties?.error?.properties.code.enum ?? []);

  it("answers every mutated request below 500, with a declared code naming the field, and changes nothing it refused", async () => {
    // The event stream never ends on a valid query, /metrics is not JSON: both are left out.
    const skipped = new Set(["/v1/promotion-events", "/metrics", "/openapi.json"]);
    const routes = Object.entries(doc.paths)
      .filter(([url]) => !skipped.has(url))
      .flatMap(([url, ops]) => Object.entries(ops).map(([method, op]) => ({ url, method: method.toUpperCase(), op })));
    const withBody = routes.filter((r) => r.op.requestBody || r.method !== "GET");
    expect(withBody.length, "routes with a request body").toBeGreaterThan(10);
    const tally = { requests: 0, refused: 0, accepted: 0 };
    let before = await snapshot();

    await forEachSeed(600, async (rng) => {
      const route = rng.int(3) === 0 ? rng.pick(routes) : rng.pick(withBody);
      const schema = route.op.requestBody?.content["application/json"]?.schema;
      const valid = schema ? sample(schema) : {};
      let c: Case;
      if (route.method === "GET" || rng.int(4) === 0) c = { ...paramMutation(route.url, route.op, rng), ...(route.method === "GET" ? {} : { body: JSON.stringify(valid) }) };
      else if (schema && rng.int(2) === 0) c = schemaMutation(schema, valid, rng);
      else {
        const m = mutateValue(valid, rng, { hugeBytes: 300_000 });
        c = { what: `mutate: ${m.what}`, body: m.value === undefined ? "" : JSON.stringify(m.value) };
      }
      const url = c.url ?? route.url.replace(/\{(\w+)\}/g, (_m, n: string) => encodeURIComponent(String(sample({ type: "string" }, n))));
      const headers: Record<string, string> = { authorization: `Bearer ${admin.token}` };
      if (c.body !== undefined) headers["content-type"] = c.contentType ?? "application/json";
      const res = await fetch(`${hub.url}${url}`, { method: route.method, headers, ...(c.body !== undefined && route.method !== "GET" ? { body: c.body } : {}) });
      const text = await res.text();
      tally.requests++;
      const what = `${route.method} ${url.slice(0, 120)} (${c.what}) → ${res.status} ${text.slice(0, 300)}`;
      expect(res.status, what).toBeLessThan(500);
      if (c.refuse) expect(res.status, `${what}: refused by the schema`).toBe(400);
      if (res.status < 400) {
        // The mutation happened to be a valid request: what it changed is the new baseline.
        tally.accepted++;
        before = await snapshot();
        return;
      }
      tally.refused++;
      const body = JSON.parse(text) as { error: { code: string; message: string; location?: { field?: string } } };
      expect(String(body.error?.code), what).toMatch(/^FLOTILLA_ERR_[A-Z_]+$/);
      expect(declaredCodes(route.op), `${what}: a code the route declares`).toContain(body.error.code);
      if (c.refuse) expect(body.error.code, what).toBe(ErrorCode.BadRequest);
      if (body.error.code === ErrorCode.BadRequest) {
        const field = body.error.location?.field;
        expect(field, `${what}: names the field`).toBeTruthy();
        expect(body.error.message, what).toContain(field);
        if (c.field) expect(field!.startsWith(c.field) || c.field.startsWith(field!), `${what}: names ${c.field}`).toBe(true);
      }
      expect(await snapshot(), `${what}: nothing stored`).toEqual(before);
    });
    expect(tally.refused).toBeGreaterThan(tally.requests * 0.8);
    console.info(`api fuzz: ${JSON.stringify(tally)}`);
  }, 300_000);
});
