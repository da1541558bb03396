// A raw HTTPS call to the API server with a KubeConfig's TLS material and credentials. The
// harness (and tests) talk to the apiserver this way so nothing is filtered through the client
// library's typed models (see stack notes: it drops fields it does not know).
import { request, type RequestOptions } from "node:https";
import type { KubeConfig } from "@kubernetes/client-node";

export interface KubeRequest {
  method?: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** Path with query, e.g. `/api/v1/namespaces?labelSelector=a%3Db`. */
  path: string;
  /** Object bodies are sent as JSON; strings as they are. */
  body?: unknown;
  /** Default `application/json`; `application/apply-patch+yaml` for server-side apply. */
  contentType?: string;
  timeoutMs?: number;
}

export interface KubeResponse<T = unknown> {
  status: number;
  /** Parsed JSON when the response is JSON, else undefined. */
  body: T;
  text: string;
}

export async function kubeRequest<T = unknown>(kc: KubeConfig, req: KubeRequest): Promise<KubeResponse<T>> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error("kubeconfig has no current cluster");
  const url = new URL(req.path, cluster.server);
  const opts: RequestOptions = { method: req.method ?? "GET", headers: {} };
  await kc.applyToHTTPSOptions(opts);
  const payload =
    req.body === undefined ? undefined : typeof req.body === "string" ? req.body : JSON.stringify(req.body);
  opts.headers = {
    ...opts.headers,
    Accept: "application/json",
    ...(payload === undefined
      ? {}
      : { "Content-Type": req.contentType ?? "application/json", "Content-Length": Buffer.byteLength(payload) }),
  };
  opts.timeout = req.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const r = request(url, opts, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("error", reject);
      res.on("end", () => {
        const text = Buffer.concat(chunks).toString("utf8");
        let body: unknown;
        if ((res.headers["content-type"] ?? "").includes("json")) {
          try {
            body = JSON.parse(text);
          } catch {
            body = undefined;
          }
        }
        resolve({ status: res.statusCode ?? 0, body: body as T, text });
      });
    });
    r.on("timeout", () => r.destroy(new Error(`${opts.method} ${url.pathname} timed out`)));
    r.on("error", reject);
    if (payload !== undefined) r.write(payload);
    r.end();
  });
}

/** kubeRequest that throws unless the status is 2xx (or one of `accept`), naming the call and the reply. */
export async function kubeRequestOk<T = unknown>(
  kc: KubeConfig,
  req: KubeRequest,
  accept: number[] = [],
): Promise<KubeResponse<T>> {
  const res = await kubeRequest<T>(kc, req);
  if ((res.status < 200 || res.status > 299) && !accept.includes(res.status)) {
    throw new Error(`${req.method ?? "GET"} ${req.path} → ${res.status}: ${res.text.slice(0, 500)}`);
  }
  return res;
}
