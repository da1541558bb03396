// A small client of the fleet API: bearer token on every call, JSON in and out, and the API's
// `{ error: { code, message, location? } }` turned into an ApiError that keeps the HTTP status.
import type { Connection } from "./config.js";
import { newTraceContext, type TraceContext } from "./trace-context.js";

/** What the client logs through (the command's pino logger satisfies it). */
export interface ClientLogger {
  debug(fields: object, msg: string): void;
  info(fields: object, msg: string): void;
  warn(fields: object, msg: string): void;
}

const SILENT: ClientLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined };

export type Query = Record<string, string | number | boolean | undefined>;

/** The hub answered with an error body (or a non-JSON error). */
export class ApiError extends Error {
  override readonly name = "ApiError";
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly retryAfter?: string,
  ) {
    super(message);
  }
}

/** The hub could not be reached at all (refused, DNS, timeout). */
export class ConnectionError extends Error {
  override readonly name = "ConnectionError";
}

export interface ApiResponse<T> {
  status: number;
  body: T;
  headers: Headers;
}

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  headers?: Record<string, string>;
}

const TIMEOUT_MS = 30_000;

export class HubClient {
  constructor(
    readonly connection: Connection,
    readonly log: ClientLogger = SILENT,
    readonly trace: TraceContext = newTraceContext(),
  ) {}

  url(path: string, query: Query = {}): string {
    const u = new URL(this.connection.hub + path);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) u.searchParams.set(k, String(v));
    return u.toString();
  }

  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<ApiResponse<T>> {
    const url = this.url(path, opts.query);
    const headers: Record<string, string> = { authorization: `Bearer ${this.connection.token}`, accept: "application/json", "user-agent": "flotilla-cli", traceparent: this.trace.traceparent(), ...opts.headers };
    if (opts.body !== undefined) headers["content-type"] = "application/json";
    const started = performance.now();
    let res: Response;
    try {
      res = await fetch(url, { method, headers, ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}), signal: AbortSignal.timeout(TIMEOUT_MS) });
    } catch (err) {
      const e = this.unreachable(err);
      this.log.debug({ method, path, ms: elapsed(started), err: e.message }, "request failed");
      throw e;
    }
    const text = await res.text();
    let body: unknown;
    try {
      body = text.length ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    const answered = { method, path, status: res.status, ms: elapsed(started), bytes: text.length };
    if (!res.ok) {
      const e = apiErrorOf(res, method, path, text, body);
      this.log.debug({ ...answered, code: e.code }, "request refused");
      throw e;
    }
    this.log.debug(answered, "request");
    if (body === undefined && text.length) throw new ApiError(res.status, "HTTP_BAD_BODY", `${method} ${path} answered something that is not JSON: ${text.slice(0, 200)}`);
    return { status: res.status, body: body as T, headers: res.headers };
  }

  /**
   * A long-lived GET whose body is read as a stream (server-sent events): no timeout but `signal`;
   * an error answer is an ApiError as for any call.
   */
  async stream(path: string, query: Query, headers: Record<string, string>, signal: AbortSignal): Promise<ReadableStream<Uint8Array>> {
    let res: Response;
    try {
      res = await fetch(this.url(path, query), { headers: { authorization: `Bearer ${this.connection.token}`, accept: "text/event-stream", "user-agent": "flotilla-cli", traceparent: this.trace.traceparent(), ...headers }, signal });
    } catch (err) {
      if (signal.aborted) throw err;
      const e = this.unreachable(err);
      this.log.debug({ method: "GET", path, err: e.message }, "event stream failed");
      throw e;
    }
    this.log.debug({ method: "GET", path, status: res.status }, "event stream");
    if (!res.ok || !res.body) {
      const text = await res.text();
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        body = undefined;
      }
      throw apiErrorOf(res, "GET", path, text, body);
    }
    return res.body;
  }

  private unreachable(err: unknown): ConnectionError {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    const why = cause?.code ?? cause?.message ?? (err as Error).message;
    return new ConnectionError(`cannot reach the hub at ${this.connection.hub} (${why})${this.connection.context ? ` — context "${this.connection.context}"` : ""}`);
  }

  async get<T>(path: string, query?: Query): Promise<T> {
    return (await this.request<T>("GET", path, query ? { query } : {})).body;
  }

  async post<T>(path: string, body: unknown = {}, headers?: Record<string, string>): Promise<T> {
    return (await this.request<T>("POST", path, { body, ...(headers ? { headers } : {}) })).body;
  }

  async delete<T>(path: string, body?: unknown): Promise<T> {
    return (await this.request<T>("DELETE", path, body !== undefined ? { body } : {})).body;
  }
}

const elapsed = (since: number): number => Math.round(performance.now() - since);

/** The API's `{ error: { code, message, location? } }` (or whatever came) as an ApiError. */
function apiErrorOf(res: Response, method: string, path: string, text: string, body: unknown): ApiError {
  const e = (body as { error?: { code?: unknown; message?: unknown; location?: { field?: unknown } } } | undefined)?.error;
  const code = typeof e?.code === "string" ? e.code : `HTTP_${res.status}`;
  const message = typeof e?.message === "string" ? e.message : `${method} ${path} answered ${res.status} ${res.statusText}${text ? `: ${text.slice(0, 200)}` : ""}`;
  const field = typeof e?.location?.field === "string" ? e.location.field : undefined;
  return new ApiError(res.status, code, message, field, res.headers.get("retry-after") ?? undefined);
}

/**
 * Exit codes: 0 ok, 1 API/server error, 2 usage, 3 not found, 4 unauthorized/forbidden,
 * 5 --wait: the promotion ended in a failed state, 6 --wait: --timeout passed first.
 */
export const Exit = { Ok: 0, Error: 1, Usage: 2, NotFound: 3, Unauthorized: 4, WaitFailed: 5, WaitTimeout: 6 } as const;

export function exitCodeOf(err: ApiError): number {
  if (err.status === 404) return Exit.NotFound;
  if (err.status === 401 || err.status === 403) return Exit.Unauthorized;
  if (err.status === 400) return Exit.Usage;
  return Exit.Error;
}
