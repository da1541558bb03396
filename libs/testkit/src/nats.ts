// Per-test NATS isolation on the real server: a random wire prefix (own KV bucket, object store,
// stream and subjects) and a cleanup that deletes every stream the prefix created.
import { randomBytes } from "node:crypto";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager } from "@nats-io/jetstream";

export function testNatsUrl(): string {
  return process.env.NATS_URL ?? "nats://127.0.0.1:4222";
}

export interface TestNats {
  url: string;
  /** Unique prefix for wireNames(prefix). */
  prefix: string;
  /** Deletes every JetStream stream whose name contains the prefix (KV and object store included). */
  cleanup(): Promise<void>;
}

export function createTestNats(label = "t"): TestNats {
  const prefix = `t${label.replace(/[^a-z0-9]/gi, "").toLowerCase().slice(0, 12)}${randomBytes(4).toString("hex")}`;
  const url = testNatsUrl();
  return {
    url,
    prefix,
    async cleanup() {
      const nc: NatsConnection = await connect({ servers: url });
      try {
        const jsm = await jetstreamManager(nc);
        const upper = prefix.toUpperCase();
        for await (const s of jsm.streams.list()) {
          const name = s.config.name;
          if (name.includes(prefix) || name.includes(upper)) await jsm.streams.delete(name);
        }
      } finally {
        await nc.close();
      }
    },
  };
}
