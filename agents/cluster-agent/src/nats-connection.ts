// How the agent's NATS adapters get a connection. Either the caller passes an open connection (and
// owns it), or a factory the adapter calls lazily — and again after the connection has closed for
// good — so the agent starts, and keeps working from its cache, while NATS is unreachable.
import { connect, type ConnectionOptions, type NatsConnection, type Status } from "@nats-io/transport-node";
import { connectNatsTls } from "@flotilla/wire";

export type NatsConnector = NatsConnection | (() => Promise<NatsConnection>);

/**
 * Connects the way an agent should: reconnect forever (the transport resubscribes and replays
 * buffered publishes), so one outage never closes the connection for good. A TLS failure rejects
 * with a NatsTlsError saying which of --nats-ca / --nats-cert / --nats-key to pass.
 */
export function connectAgentNats(opts: ConnectionOptions): Promise<NatsConnection> {
  return connectNatsTls(connect, { maxReconnectAttempts: -1, reconnectTimeWait: 1_000, pingInterval: 10_000, ...opts });
}

export class NatsConnectionHolder {
  private nc: NatsConnection | undefined;
  private connecting: Promise<NatsConnection> | undefined;

  constructor(private readonly connector: NatsConnector) {
    if (typeof connector !== "function") this.nc = connector;
  }

  /** True when the holder created the connection (and so closes it). */
  get owned(): boolean {
    return typeof this.connector === "function";
  }

  /** The open connection, if there is one, without connecting. */
  current(): NatsConnection | undefined {
    return this.nc && !this.nc.isClosed() ? this.nc : undefined;
  }

  /**
   * The open connection; with a factory, connects first (rejects when it cannot — callers retry
   * with backoff). With a caller-owned connection that has closed, rejects: nothing can revive it.
   */
  async get(): Promise<NatsConnection> {
    const open = this.current();
    if (open) return open;
    if (typeof this.connector !== "function") throw new Error("the NATS connection passed to the agent is closed");
    const factory = this.connector;
    this.connecting ??= factory().finally(() => {
      this.connecting = undefined;
    });
    this.nc = await this.connecting;
    return this.nc;
  }

  /** Closes the connection when the holder owns it; a caller-owned one is left alone. */
  async close(): Promise<void> {
    const nc = this.nc;
    this.nc = undefined;
    if (this.owned) {
      if (this.connecting) {
        this.connecting.then((late) => late.close()).catch(() => undefined);
      }
      if (nc && !nc.isClosed()) await nc.close().catch(() => undefined);
    }
  }
}

/** Calls `onStatus` for every status event of `nc` until the returned function is called. */
export function watchStatus(nc: NatsConnection, onStatus: (s: Status) => void): () => void {
  const iter = nc.status();
  let stopped = false;
  void (async () => {
    try {
      for await (const s of iter) {
        if (stopped) break;
        onStatus(s);
      }
    } catch {
      // the status iterator ends with the connection; nothing to do
    }
  })();
  return () => {
    stopped = true;
    (iter as { stop?: () => void }).stop?.();
  };
}
