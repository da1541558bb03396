// Per-test NATS isolation on the real server: a random wire prefix (own KV bucket, object store,
// stream and subjects) and a cleanup that deletes every stream the prefix created.
import { randomBytes } from "node:crypto";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";

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
        // Names first, deletes after: the listing pages by offset, so deleting while iterating
        // skips the stream that moves into each deleted one's place (half of 1,000 object stores
        // stayed behind). Listed again until none is left, in case one was created meanwhile.
        for (let round = 0; round < 5; round++) {
          const names: string[] = [];
          for await (const name of jsm.streams.names()) if (name.includes(prefix) || name.includes(upper)) names.push(name);
          if (names.length === 0) return;
          await deleteStreams(jsm, names);
        }
      } finally {
        await nc.close();
      }
    },
  };
}

/** Deletes streams a few at a time (a fleet bench leaves 1,000 object stores); gone already is fine. */
async function deleteStreams(jsm: JetStreamManager, names: string[]): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < names.length) {
      const name = names[next++]!;
      await jsm.streams.delete(name).catch((err: unknown) => {
        if (!/stream not found/i.test(String((err as Error).message))) throw err;
      });
    }
  };
  await Promise.all(Array.from({ length: 8 }, worker));
}
