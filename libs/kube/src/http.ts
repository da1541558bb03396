// HTTP to the API server with raw JSON. Credentials come from a KubeConnection (kube-connection.ts,
// no client-node at runtime) or a client-node KubeConfig (its exec plugins and auth providers):
// client-node's typed client is never used, it drops fields it does not know, which would
// silently corrupt server-side apply.
import { createHash } from "node:crypto";
import http from "node:http";
import https from "node:https";
import { isKubeConfig, type KubeCredentials } from "./kube-connection.js";

export interface HttpResponse {
  status: number;
  /** Parsed JSON, or the raw text when the body is not JSON. */
  body: unknown;
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  contentType?: string;
  signal?: AbortSignal;
}

export interface KubeHttpOptions {
  /** A request without any response byte for this long fails (default 30 s). */
  requestTimeoutMs?: number;
}

export class KubeHttp {
  readonly server: URL;
  private agent: http.Agent | undefined;
  private agentKey = "";
  private readonly requestTimeoutMs: number;

  constructor(private readonly kc: KubeCredentials, opts: KubeHttpOptions = {}) {
    let server: string;
    if (isKubeConfig(kc)) {
      const cluster = kc.getCurrentCluster();
      if (!cluster) throw new Error("kubeconfig has no current cluster");
      server = cluster.server;
    } else {
      server = kc.server;
    }
    try {
      this.server = new URL(server);
    } catch {
      throw new Error(`${isKubeConfig(kc) ? "kubeconfig" : kc.identity}: server "${server}" is not a URL`);
    }
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 30_000;
  }

  private get mod(): typeof https | typeof http {
    return this.server.protocol === "https:" ? https : http;
  }

  /**
   * Request options with fresh credentials (tokens and exec-plugin certificates may rotate) on a
   * keep-alive agent, rebuilt only when the TLS material changes.
   */
  private async options(method: string, path: string, headers: Record<string, string>, signal?: AbortSignal): Promise<https.RequestOptions> {
    const opts: https.RequestOptions = { method, headers: { ...headers } };
    await this.authenticate(opts);
    const tls = {
      ...(opts.ca ? { ca: opts.ca } : {}),
      ...(opts.cert ? { cert: opts.cert } : {}),
      ...(opts.key ? { key: opts.key } : {}),
      ...(opts.rejectUnauthorized !== undefined ? { rejectUnauthorized: opts.rejectUnauthorized } : {}),
      ...(opts.servername ? { servername: opts.servername } : {}),
    };
    const key = createHash("sha256").update(JSON.stringify(tls, (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString("base64") : v))).digest("hex");
    if (!this.agent || key !== this.agentKey) {
      this.agent?.destroy();
      const AgentClass = this.server.protocol === "https:" ? https.Agent : http.Agent;
      this.agent = new AgentClass({ keepAlive: true, ...tls } as https.AgentOptions);
      this.agentKey = key;
    }
    const base = this.server.pathname.replace(/\/$/, "");
    return {
      ...opts,
      agent: this.agent,
      protocol: this.server.protocol,
      hostname: this.server.hostname.replace(/^\[|\]$/g, ""),
      port: this.server.port || (this.server.protocol === "https:" ? 443 : 80),
      path: base + path,
      ...(signal ? { signal } : {}),
    };
  }

  private async authenticate(opts: https.RequestOptions): Promise<void> {
    const c = this.kc;
    if (isKubeConfig(c)) return c.applyToHTTPSOptions(opts);
    if (c.ca) opts.ca = c.ca;
    if (c.cert) opts.cert = c.cert;
    if (c.key) opts.key = c.key;
    if (c.insecureSkipTLSVerify) opts.rejectUnauthorized = false;
    if (c.tlsServerName) opts.servername = c.tlsServerName;
    const token = typeof c.token === "function" ? c.token() : c.token;
    if (token) (opts.headers as Record<string, string>)["Authorization"] = `Bearer ${token}`;
  }

  private static withQuery(path: string, query: RequestOptions["query"]): string {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) q.set(k, String(v));
    const s = q.toString();
    return s ? `${path}?${s}` : path;
  }

  private static parse(text: string): unknown {
    if (text === "") return undefined;
    try {
      return JSON.parse(text);
    } catch {
      return text; // not JSON: keep the text for the error message
    }
  }

  /** One request; resolves with any HTTP status, rejects only when the server is unreachable
   * (or silent for longer than the request timeout). */
  async request(method: string, path: string, o: RequestOptions = {}): Promise<HttpResponse> {
    const payload = o.body === undefined ? undefined : Buffer.from(JSON.stringify(o.body));
    const headers: Record<string, string> = { Accept: "application/json" };
    if (payload) {
      headers["Content-Type"] = o.contentType ?? "application/json";
      headers["Content-Length"] = String(payload.length);
    }
    const opts = await this.options(method, KubeHttp.withQuery(path, o.query), headers, o.signal);
    return new Promise<HttpResponse>((resolve, reject) => {
      const req = this.mod.request(opts, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", reject);
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: KubeHttp.parse(Buffer.concat(chunks).toString("utf8")) }));
      });
      req.setTimeout(this.requestTimeoutMs, () => req.destroy(new Error(`${method} ${path}: no response within ${this.requestTimeoutMs} ms`)));
      req.on("error", reject);
      if (payload) req.write(payload);
      req.end();
    });
  }

  /**
   * A streaming GET (watch): calls `onLine` for each newline-delimited JSON document. Resolves
   * when the server ends the stream; rejects on network errors, abort, a throwing `onLine`, or
   * silence longer than `idleTimeoutMs` (a dead connection sends no FIN). A non-200 response
   * resolves `{ status, body }` without streaming.
   */
  async stream(path: string, query: RequestOptions["query"], signal: AbortSignal, onLine: (doc: unknown) => void, idleTimeoutMs = 120_000): Promise<HttpResponse> {
    const opts = await this.options("GET", KubeHttp.withQuery(path, query), { Accept: "application/json" }, signal);
    return new Promise<HttpResponse>((resolve, reject) => {
      const req = this.mod.request(opts, (res) => {
        const status = res.statusCode ?? 0;
        let buffered = "";
        const drain = (final: boolean): void => {
          let nl: number;
          while ((nl = buffered.indexOf("\n")) >= 0) {
            const line = buffered.slice(0, nl).trim();
            buffered = buffered.slice(nl + 1);
            if (line) onLine(JSON.parse(line));
          }
          if (final && buffered.trim()) onLine(JSON.parse(buffered));
        };
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          buffered += chunk;
          if (status !== 200) return;
          try {
            drain(false);
          } catch (err) {
            // A malformed line or a throwing handler ends this stream; the watch restarts it.
            req.destroy(err instanceof Error ? err : new Error(String(err)));
          }
        });
        res.on("error", reject);
        res.on("end", () => {
          if (status !== 200) return resolve({ status, body: KubeHttp.parse(buffered) });
          try {
            drain(true);
            resolve({ status, body: undefined });
          } catch (err) {
            reject(err);
          }
        });
      });
      req.setTimeout(idleTimeoutMs, () => req.destroy(new Error(`watch ${path}: no data for ${idleTimeoutMs} ms`)));
      req.on("error", reject);
      req.end();
    });
  }

  close(): void {
    this.agent?.destroy();
    this.agent = undefined;
  }
}
