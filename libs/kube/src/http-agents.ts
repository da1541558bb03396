// Keep-alive HTTP(S) agents shared by every KubeHttp in the process that reaches the same server
// with the same TLS material. Tokens travel per request (the Authorization header), so clients
// with different bearer tokens but one CA — many namespace-scoped agents in one process, as in
// bench/fleet — share one socket pool and one parsed TLS context instead of each building its own:
// a TLS context per connection (the CA parsed again every time) and a handshake per client were
// most of an agent's CPU when a thousand of them applied at once.
import { createHash } from "node:crypto";
import http from "node:http";
import https from "node:https";
import tls from "node:tls";

/** The TLS inputs of a request, as credentials produce them. */
export interface TlsMaterial {
  ca?: string | Buffer | (string | Buffer)[];
  cert?: string | Buffer | (string | Buffer)[];
  key?: string | Buffer | (string | Buffer)[];
  rejectUnauthorized?: boolean;
  servername?: string;
}

interface Pooled {
  agent: http.Agent;
  refs: number;
}

const pool = new Map<string, Pooled>();

/** A stable key of the TLS material (content, not identity: a kubeconfig may return new buffers). */
export function tlsKey(https_: boolean, m: TlsMaterial): string {
  const json = JSON.stringify([https_, m.ca, m.cert, m.key, m.rejectUnauthorized, m.servername], function (this: Record<string, unknown>, k, v: unknown) {
    const raw = this[k]; // before Buffer's toJSON
    return Buffer.isBuffer(raw) ? raw.toString("base64") : v;
  });
  return createHash("sha256").update(json).digest("hex");
}

/** The shared agent for this key (created on first use); pair every call with release(key). */
export function acquireAgent(key: string, isHttps: boolean, m: TlsMaterial): http.Agent {
  const found = pool.get(key);
  if (found) {
    found.refs++;
    return found.agent;
  }
  let agent: http.Agent;
  if (isHttps) {
    const context = m.ca || m.cert || m.key ? { secureContext: tls.createSecureContext({ ...(m.ca ? { ca: m.ca } : {}), ...(m.cert ? { cert: m.cert } : {}), ...(m.key ? { key: m.key } : {}) }) } : {};
    agent = new https.Agent({
      keepAlive: true,
      ...context,
      ...(m.rejectUnauthorized !== undefined ? { rejectUnauthorized: m.rejectUnauthorized } : {}),
      ...(m.servername ? { servername: m.servername } : {}),
    });
  } else {
    agent = new http.Agent({ keepAlive: true });
  }
  pool.set(key, { agent, refs: 1 });
  return agent;
}

/** Drops one use; the last user's release destroys the agent and its sockets. */
export function releaseAgent(key: string): void {
  const found = pool.get(key);
  if (!found) return;
  if (--found.refs > 0) return;
  pool.delete(key);
  found.agent.destroy();
}

/** Agents alive now (tests). */
export function sharedAgentCount(): number {
  return pool.size;
}
