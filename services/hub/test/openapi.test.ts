// The OpenAPI document is generated from the routes themselves: every route is in it, with who may
// call it and the error codes it can answer, and docs/api.md documents every path in it.
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ErrorCode } from "@flotilla/model";
import { createWorkRepo, readFilesFrom } from "@flotilla/envrepo/testing";
import { createTestNats, type TestNats } from "@flotilla/testkit";
import { generateSigningKey } from "@flotilla/wire";
import { startHub, type Hub } from "../src/hub.js";
import { mintApiToken, Role } from "../src/api/index.js";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const EXAMPLE = join(ROOT, "examples/env-repo");

interface Operation {
  security?: unknown[];
  parameters?: { in: string; name: string }[];
  responses: Record<string, { content?: { "application/json": { schema: { properties?: { error?: { properties: { code: { enum: string[] } } } } } } } }>;
}
interface BodySchema {
  type: string;
  required?: string[];
  additionalProperties?: boolean;
  properties: Record<string, Record<string, unknown>>;
}
type Doc = { openapi: string; paths: Record<string, Record<string, Operation>> };

let nats: TestNats;
let dir: string;
let hub: Hub;
let doc: Doc;
const viewer = mintApiToken({ subject: "vic", roles: [Role.Viewer] });

beforeAll(async () => {
  nats = createTestNats("openapi");
  dir = await mkdtemp(join(tmpdir(), "hub-openapi-"));
  await createWorkRepo(dir, await readFilesFrom(EXAMPLE));
  hub = await startHub({
    auth: { tokens: [viewer.entry] },
    webhookSecrets: ["webhook-secret-0123456789"],
    repo: { path: dir },
    natsUrl: nats.url,
    natsPrefix: nats.prefix,
    signingKey: generateSigningKey(),
    port: 0,
    pollIntervalMs: 3_600_000,
  });
  const res = await fetch(`${hub.url}/openapi.json`);
  expect(res.status).toBe(200);
  doc = (await res.json()) as Doc;
}, 60_000);

afterAll(async () => {
  await hub?.stop();
  await nats?.cleanup();
  await rm(dir, { recursive: true, force: true });
});

const openApiPath = (url: string) => url.replace(/:(\w+)/g, "{$1}");
const codesAt = (op: Operation, status: number) => op.responses[String(status)]?.content?.["application/json"].schema.properties?.error?.properties.code.enum ?? [];
const operations = () => hub.api.routeTable.filter((r) => r.url !== "/openapi.json").map((r) => ({ route: r, op: doc.paths[openApiPath(r.url)]?.[r.method.toLowerCase()] }));

describe("GET /openapi.json", () => {
  it("is OpenAPI 3.1 and holds every route of the API", () => {
    expect(doc.openapi).toBe("3.1.0");
    const missing = operations().filter((o) => !o.op).map((o) => `${o.route.method} ${o.route.url}`);
    expect(missing).toEqual([]);
    expect(operations().length).toBeGreaterThan(30);
  });

  it("marks who may call each route and lists the error codes it can answer", () => {
    for (const { route, op } of operations()) {
      const what = `${route.method} ${route.url}`;
      expect(codesAt(op!, 500), what).toContain(ErrorCode.Internal);
      if (route.public) {
        expect(op!.security, what).toEqual([]);
      } else {
        expect(op!.security, what).toEqual([{ bearer: [] }]);
        expect(codesAt(op!, 401), what).toContain(ErrorCode.Unauthorized);
        expect(codesAt(op!, 403), what).toContain(ErrorCode.Forbidden);
        expect(codesAt(op!, 429), what).toContain(ErrorCode.RateLimited);
      }
      if (route.url.includes(":")) {
        expect(codesAt(op!, 404), what).toContain(ErrorCode.NotFound);
        for (const name of route.url.match(/:(\w+)/g)!.map((p) => p.slice(1))) expect(op!.parameters?.some((p) => p.in === "path" && p.name === name), `${what} documents :${name}`).toBe(true);
      }
    }
    const op = (method: string, path: string) => doc.paths[path]![method]!;
    expect(codesAt(op("post", "/v1/promotions/{id}/approve"), 403)).toEqual(expect.arrayContaining([ErrorCode.Forbidden, ErrorCode.SelfApproval]));
    expect(codesAt(op("post", "/v1/promotions"), 409)).toEqual(expect.arrayContaining([ErrorCode.PromotionConflict, ErrorCode.FreezeWindow, ErrorCode.IdempotencyKeyReused]));
    expect(codesAt(op("post", "/v1/releases"), 422)).toEqual([ErrorCode.ImageNotPinned]);
    expect(codesAt(op("post", "/v1/webhooks/git"), 401)).toEqual([ErrorCode.WebhookSignatureInvalid]);
    expect(codesAt(op("post", "/v1/refresh"), 503)).toEqual([ErrorCode.RepoUnavailable, ErrorCode.NotLeader]);
    // The break-glass bodies are schemas, with their bounds.
    const bodyOf = (o: Operation) => (o as { requestBody?: { content: { "application/json": { schema: BodySchema } } } }).requestBody?.content["application/json"].schema;
    const start = bodyOf(op("post", "/v1/clusters/{name}/break-glass"));
    expect(start).toMatchObject({ type: "object", required: ["scope", "reason"], additionalProperties: false });
    expect(start!.properties.ttlSeconds).toMatchObject({ type: "integer", minimum: 1, maximum: 86_400 });
    expect(start!.properties.scope).toMatchObject({ required: ["kind"], properties: { kind: { enum: ["cluster", "app", "object"] } } });
    expect(bodyOf(op("delete", "/v1/clusters/{name}/break-glass/{id}"))).toMatchObject({ additionalProperties: false, properties: { reason: { type: "string", maxLength: 1000 } } });
    // Query strings come from the schemas the routes check them with.
    expect(op("get", "/v1/drift").parameters!.filter((p) => p.in === "query").map((p) => p.name).sort()).toEqual(
      ["action", "actor", "app", "cluster", "cursor", "environment", "kind", "limit", "namespace", "since", "state", "until"],
    );
  });

  it("every path in it is documented in docs/api.md or docs/promotion.md", () => {
    const text = readFileSync(join(ROOT, "docs/api.md"), "utf8") + readFileSync(join(ROOT, "docs/promotion.md"), "utf8");
    // The docs group verbs as `/v1/promotions/:id/{pause,resume}`: expand those.
    const expanded = [...text.matchAll(/([\w/:.-]*)\{([\w,-]+)\}/g)].flatMap(([, prefix, names]) => names!.split(",").map((n) => `${prefix}${n}`));
    const docs = [text, ...expanded].join("\n");
    const undocumented = Object.keys(doc.paths).map((p) => p.replace(/\{(\w+)\}/g, ":$1")).filter((p) => !docs.includes(p));
    expect(undocumented).toEqual([]);
  });

  it("refuses an unknown query parameter and a repeated one, naming it", async () => {
    const headers = { authorization: `Bearer ${viewer.token}` };
    const field = (r: { json(): unknown }) => (r.json() as { error: { code: string; location?: { field?: string } } }).error;
    const typo = await hub.api.inject({ url: "/v1/drift?clustre=dev-1", headers });
    expect([typo.statusCode, field(typo)]).toEqual([400, expect.objectContaining({ code: ErrorCode.BadRequest, location: { field: "clustre" } })]);
    const twice = await hub.api.inject({ url: "/v1/drift?cluster=dev-1&cluster=prod-1", headers });
    expect([twice.statusCode, field(twice)]).toEqual([400, expect.objectContaining({ code: ErrorCode.BadRequest, location: { field: "cluster" } })]);
    expect((await hub.api.inject({ url: "/v1/drift?cluster=dev-1", headers })).statusCode).toBe(200);
    expect(field(twice)).toMatchObject({ message: 'query parameter "cluster" is given 2 times: give it once' });
    expect(field(typo)).toMatchObject({ message: expect.stringMatching(/^query parameter "clustre" is not accepted by GET \/v1\/drift: accepted: cluster, app, environment, /) });
  });
});
