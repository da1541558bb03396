// One check of every route's query string, before its schema and its handler run: a parameter the
// route does not declare is refused with a 400 naming it and listing the ones it takes, so a typo
// (`?clustre=`) is never silently read as "no filter". Every GET route must declare its query
// string (query-params.ts queryString / NO_QUERY / ANY_QUERY): building one without throws, so a
// new route cannot forget. Routes of other methods are checked when they declare one.
import type { FastifyInstance, preValidationHookHandler, RouteOptions } from "fastify";
import { ErrorCode, FlotillaError } from "@flotilla/model";
import type { QuerySchema } from "./query-params.js";

const CHECK = Symbol("flotilla.queryCheck");

type Hook = preValidationHookHandler & { [CHECK]?: true };

function declaredQuery(route: RouteOptions): QuerySchema | undefined {
  return (route.schema as { querystring?: QuerySchema } | undefined)?.querystring;
}

function checkOf(accepted: readonly string[]): Hook {
  const check: Hook = function (request, _reply, done) {
    const given = Object.keys((request.query ?? {}) as Record<string, unknown>);
    const unknown = given.find((name) => !accepted.includes(name));
    if (unknown === undefined) return done();
    const what = accepted.length === 0 ? "this route takes no query parameters" : `accepted: ${accepted.join(", ")}`;
    const route = `${request.method} ${request.routeOptions.url ?? request.url.split("?")[0]}`;
    done(new FlotillaError(ErrorCode.BadRequest, `query parameter ${JSON.stringify(unknown)} is not accepted by ${route}: ${what}`, { location: { field: unknown } }));
  };
  check[CHECK] = true;
  return check;
}

export function installQueryCheck(app: FastifyInstance): void {
  app.addHook("onRoute", (route) => {
    const methods = [route.method].flat();
    const query = declaredQuery(route);
    if (query === undefined) {
      if (!methods.includes("GET") && !methods.includes("HEAD")) return;
      throw new FlotillaError(
        ErrorCode.Internal,
        `GET ${route.url} declares no query string: give it schema.querystring (queryString({...}) for its parameters, NO_QUERY when it takes none, ANY_QUERY when it ignores them on purpose) in services/hub/src/api/routes`,
      );
    }
    // ANY_QUERY: the route ignores the query string by design (static files a browser may cache-bust).
    if (query.additionalProperties === true) return;
    const existing = [route.preValidation ?? []].flat() as Hook[];
    // fastify copies a GET route into its HEAD twin after the hooks ran: check once.
    if (existing.some((h) => h[CHECK])) return;
    route.preValidation = [checkOf(Object.keys(query.properties)), ...existing];
  });
}
