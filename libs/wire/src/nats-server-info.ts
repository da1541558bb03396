// Reads the INFO line a nats-server sends in clear text before any TLS upgrade, to tell why a TLS
// connection cannot work (the server demands a client certificate) before nats.js tries: a
// client without one completes the TLS 1.3 handshake, is then dropped by the server, and nats.js
// reports only a timeout 20 s later.
import { Socket } from "node:net";

/** The INFO fields about TLS (nats-server 2.9). */
export interface NatsServerTlsInfo {
  tls_required?: boolean;
  tls_available?: boolean;
  /** The server verifies client certificates: a client without one is refused. */
  tls_verify?: boolean;
}

/** host and port of the first server of a NATS URL list (`tls://a:4222,nats://b`). */
export function firstNatsHostPort(url: string): { host: string; port: number } | undefined {
  const first = url.split(",")[0]!.trim().replace(/^[a-z]+:\/\//i, "").replace(/^[^@]*@/, "");
  const m = /^(?:\[([^\]]+)\]|([^:/]+))(?::(\d+))?/.exec(first);
  if (!m) return undefined;
  return { host: m[1] ?? m[2]!, port: m[3] ? Number(m[3]) : 4222 };
}

/** The server's INFO, or undefined when it cannot be read in `timeoutMs` (unreachable, not NATS, TLS first). */
export function readNatsServerInfo(url: string, timeoutMs = 2_000): Promise<NatsServerTlsInfo | undefined> {
  const hp = firstNatsHostPort(url);
  if (!hp) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const socket = new Socket();
    let buffered = "";
    const done = (info: NatsServerTlsInfo | undefined) => {
      socket.destroy();
      resolve(info);
    };
    socket.setTimeout(timeoutMs, () => done(undefined));
    socket.once("error", () => done(undefined));
    socket.on("data", (chunk: Buffer) => {
      buffered += chunk.toString("latin1");
      const end = buffered.indexOf("\r\n");
      if (end < 0) return buffered.length > 64 * 1024 ? done(undefined) : undefined;
      const m = /^INFO\s+(\{.*\})\s*$/.exec(buffered.slice(0, end));
      try {
        done(m ? (JSON.parse(m[1]!) as NatsServerTlsInfo) : undefined);
      } catch {
        done(undefined);
      }
    });
    socket.connect(hp.port, hp.host);
  });
}
