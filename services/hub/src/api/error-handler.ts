// One error shape for every failure: `{ error: { code, message, location? } }`, with the HTTP
// status derived from the code (httpStatusOf), never chosen ad hoc in a route.
import type { FastifyError, FastifyInstance, FastifyReply } from "fastify";
import { ErrorCode, FlotillaError, httpStatusOf, type ErrorInfo } from "@flotilla/model";

export function sendError(reply: FastifyReply, error: ErrorInfo): FastifyReply {
  return reply.code(httpStatusOf[error.code]).send({ error });
}

export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | FlotillaError | Error, request, reply) => {
    if (err instanceof FlotillaError) return sendError(reply, err.toJSON());
    // A route schema refused the request: name the field as the routes' own checks do.
    const validation = (err as FastifyError).validation;
    if (validation && validation.length > 0) {
      const v = validation[0]!;
      const params = v.params as { missingProperty?: string; additionalProperty?: string };
      const path = v.instancePath.replace(/^\//, "").replace(/\//g, ".");
      const field = [path, params.missingProperty ?? params.additionalProperty].filter(Boolean).join(".") || (err as FastifyError).validationContext || "request";
      const what = params.additionalProperty ? "unknown field" : v.message ?? "is not valid";
      return sendError(reply, { code: ErrorCode.BadRequest, message: `${field}: ${what}${(err as FastifyError).validationContext === "querystring" ? " (give each query parameter once)" : ""}`, location: { field } });
    }
    // fastify's own client errors: malformed JSON, wrong content type, body too large…
    const statusCode = (err as FastifyError).statusCode;
    if (statusCode !== undefined && statusCode >= 400 && statusCode < 500) {
      return sendError(reply, { code: ErrorCode.BadRequest, message: err.message });
    }
    request.log.error({ err }, "request failed");
    // Internal details stay in the log; the client gets the code and a pointer to it.
    return sendError(reply, { code: ErrorCode.Internal, message: `internal error (request ${request.id}); see the hub log` });
  });

  app.setNotFoundHandler((request, reply) =>
    sendError(reply, { code: ErrorCode.NotFound, message: `no route ${request.method} ${request.url.split("?")[0]}` }),
  );
}
