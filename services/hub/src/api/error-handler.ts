// One error shape for every failure: `{ error: { code, message, location? } }`, with the HTTP
// status derived from the code (httpStatusOf), never chosen ad hoc in a route.
import type { FastifyError, FastifyInstance, FastifyReply } from "fastify";
import { ErrorCode, FlotillaError, httpStatusOf, type ErrorInfo } from "@flotilla/model";
import { validationMessage } from "./validation-message.js";

export function sendError(reply: FastifyReply, error: ErrorInfo): FastifyReply {
  return reply.code(httpStatusOf[error.code]).send({ error });
}

/**
 * fastify's `frameworkErrors`: failures before routing (a URL whose percent-encoding is broken)
 * that never reach the error handler, in the API's error shape instead of fastify's own.
 */
export function frameworkError(err: FastifyError, _request: unknown, reply: FastifyReply): void {
  if (err.code === "FST_ERR_BAD_URL") {
    void sendError(reply, { code: ErrorCode.BadRequest, message: "url: a path segment is not valid percent-encoding (e.g. a lone %): encode it with encodeURIComponent", location: { field: "url" } });
    return;
  }
  void sendError(reply, { code: ErrorCode.BadRequest, message: `request: ${err.message}`, location: { field: "request" } });
}

export function installErrorHandlers(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | FlotillaError | Error, request, reply) => {
    if (err instanceof FlotillaError) return sendError(reply, err.toJSON());
    // A route schema refused the request: name the field as the routes' own checks do.
    const validation = (err as FastifyError).validation;
    if (validation && validation.length > 0) {
      const { field, message } = validationMessage(validation[0]!, (err as FastifyError).validationContext);
      return sendError(reply, { code: ErrorCode.BadRequest, message, location: { field } });
    }
    // fastify's own client errors: malformed JSON, wrong content type, body too large…
    const statusCode = (err as FastifyError).statusCode;
    if (statusCode !== undefined && statusCode >= 400 && statusCode < 500) {
      const { field, message } = clientError(err as FastifyError, request.headers["content-type"]);
      return sendError(reply, { code: ErrorCode.BadRequest, message: `${field}: ${message}`, location: { field } });
    }
    request.log.error({ err }, "request failed");
    // Internal details stay in the log; the client gets the code and a pointer to it.
    return sendError(reply, { code: ErrorCode.Internal, message: `internal error (request ${request.id}); see the hub log` });
  });

  app.setNotFoundHandler((request, reply) =>
    sendError(reply, { code: ErrorCode.NotFound, message: `no route ${request.method} ${request.url.split("?")[0]}` }),
  );
}

/**
 * fastify's own refusals (body parsing, content type, size, URL) in the words of the API: which
 * part of the request is wrong and what to send instead.
 */
function clientError(err: FastifyError, contentType: string | undefined): { field: string; message: string } {
  switch (err.code) {
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return { field: "body", message: `content type ${JSON.stringify(contentType ?? "")} is not accepted: send application/json` };
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return { field: "body", message: "empty with content type application/json: send a JSON object, or no content type" };
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return { field: "body", message: `too large (${err.message})` };
    case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
      return { field: "body", message: "its length does not match Content-Length" };
    default:
      if (err.code?.startsWith("FST_ERR_CTP") || err instanceof SyntaxError) return { field: "body", message: `not valid JSON (${err.message})` };
      return { field: "request", message: err.message };
  }
}
