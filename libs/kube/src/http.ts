// HTTP to the API server with raw JSON. Credentials come from a KubeConnection (kube-connection.ts,
// no client-node at runtime) or a client-node KubeConfig (its exec plugins and auth providers):
// client-node's typed client is never used, it drops fields it does not know, which would
// silently corrupt server-side apply.
import http from "node:http";
import https from "node:https";
import { acquireAgent, releaseAgent, tlsKey, type TlsMaterial } from "./http-agents.js";
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
  /** The TLS inputs the current key was computed from: the same references skip the hash. */
  private lastTls: TlsMaterial | undefined;
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
   * keep-alive agent shared with every client of the same TLS material (http-agents.ts), switched
   * only when the TLS material changes.
   */
  private async options(method: string, path: string, headers: Record<string, string>, signal?: AbortSignal): Promise<https.RequestOptions> {
    const opts: https.RequestOptions = { method, headers: { ...headers } };
    await this.authenticate(opts);
    const { ca, cert, key: privateKey, rejectUnauthorized, servername, ...rest } = opts;
    const material: TlsMaterial = {
      ...(ca ? { ca } : {}),
      ...(cert ? { cert } : {}),
      ...(privateKey ? { key: privateKey as TlsMaterial["key"] } : {}),
      ...(rejectUnauthorized !== undefined ? { rejectUnauthorized } : {}),
      ...(servername ? { servername } : {}),
    };
    const isHttps = this.server.protocol === "https:";
    const last = this.lastTls;
    const same = last !== undefined && last.ca === material.ca && last.cert === material.cert && last.key === material.key && last.rejectUnauthorized === material.rejectUnauthorized && last.servername === material.servername;
    if (!same) {
      const key = tlsKey(isHttps, material);
      if (!this.agent || key !== this.agentKey) {
        const previous = this.agent ? this.agentKey : undefined;
        this.agent = acquireAgent(key, isHttps, material);
        this.agentKey = key;
        if (previous !== undefined) releaseAgent(previous);
      }
      this.lastTls = material;
    }
    const base = this.server.pathname.replace(/\/$/, "");
    // TLS material stays out of the request: the shared agent's secure context carries it.
    return {
      ...rest,
      agent: this.agent,
      protocol: this.server.protocol,
      hostname: this.server.hostname.replace(/^\[|\]$/g, ""),
      port: this.server.port || (isHttps ? 443 : 80),
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

  /** Releases this client's use of the shared agent (the last user's release closes its sockets). */
  close(): void {
    if (this.agent) releaseAgent(this.agentKey);
    this.agent = undefined;
    this.lastTls = undefined;
  }
}
