// Text PostgreSQL cannot store (a NUL, a lone UTF-16 surrogate) is refused at the door, for every
// route: in a path parameter, the query string or a JSON body it would otherwise reach a query and
// come back as a database error (a 500) instead of a 400 naming the field.
import type { FastifyInstance } from "fastify";
import { findUnstorableText } from "@flotilla/wire";
import { badRequest } from "./query-params.js";

export function installStorableInput(app: FastifyInstance): void {
  app.addHook("preValidation", async (request) => {
    const parts: [string, unknown][] = [["params", request.params], ["query", request.query], ["body", request.body]];
    for (const [where, value] of parts) {
      // Raw bodies (the Git webhook's signed bytes) are not text fields.
      if (value === undefined || value === null || Buffer.isBuffer(value)) continue;
      const bad = findUnstorableText(value);
      if (bad) {
        throw badRequest(bad.field || where, `${bad.isKey ? "a field name" : "the value"} holds a NUL character or a lone UTF-16 surrogate, which cannot be stored; remove it`);
      }
    }
  });
}
