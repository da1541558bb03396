// GET /ui, GET /ui/:file — the web dashboard: static files (one HTML page, one ES module, one
// stylesheet; no build step), served without a token because they hold no data. The page asks
// for a bearer token and calls this same API with it, so the dashboard sees exactly what the token
// may see. The files live in services/hub/dashboard/, next to src/ and dist/, so the same relative
// path finds them from the sources (tsx) and from the build.
import { readFile } from "node:fs/promises";
import type { FastifyInstance, FastifyReply } from "fastify";
import { ErrorCode, FlotillaError } from "@flotilla/model";
import { ANY_QUERY } from "../query-params.js";

export const DASHBOARD_DIR = new URL("../../../dashboard/", import.meta.url);

const FILES: Record<string, string> = {
  "index.html": "text/html; charset=utf-8",
  "app.js": "text/javascript; charset=utf-8",
  "style.css": "text/css; charset=utf-8",
};

// The token sits in sessionStorage: no script but the page's own may run, nothing loads from
// elsewhere, and no other site may frame it.
const SECURITY_HEADERS = {
  "content-security-policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cache-control": "no-cache",
};

const fileParams = { type: "object", required: ["file"], properties: { file: { type: "string", maxLength: 64, description: "index.html, app.js or style.css" } } } as const;

async function send(reply: FastifyReply, file: string): Promise<Buffer> {
  // Own keys only: "__proto__" or "constructor" must be a 404, not a lookup on Object.prototype.
  const type = Object.hasOwn(FILES, file) ? FILES[file] : undefined;
  if (!type) throw new FlotillaError(ErrorCode.NotFound, `the dashboard has no file ${JSON.stringify(file)} (it has ${Object.keys(FILES).join(", ")})`);
  const body = await readFile(new URL(file, DASHBOARD_DIR));
  void reply.headers({ ...SECURITY_HEADERS, "content-type": type });
  return body;
}

export function dashboardRoutes(app: FastifyInstance): void {
  const config = { public: true };
  app.get("/ui", { config, schema: { querystring: ANY_QUERY, description: "The web dashboard's page (static; it asks for a token and calls this API with it)." } }, async (_request, reply) => send(reply, "index.html"));
  app.get<{ Params: { file: string } }>("/ui/:file", { config, schema: { params: fileParams, querystring: ANY_QUERY, description: "The dashboard's static files (no data)." } }, async (request, reply) =>
    send(reply, request.params.file === "" ? "index.html" : request.params.file),
  );
}
