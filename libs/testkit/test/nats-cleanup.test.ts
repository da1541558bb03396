// createTestNats().cleanup() deletes every stream of its prefix, also when there are more than
// one page of the server's stream listing (a fleet bench creates 1,000 object stores).
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { jetstreamManager, type JetStreamManager } from "@nats-io/jetstream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestNats } from "../src/nats.js";

let nc: NatsConnection;
let jsm: JetStreamManager;
beforeAll(async () => {
  nc = await connect({ servers: createTestNats().url });
  jsm = await jetstreamManager(nc);
});
afterAll(async () => {
  await nc?.close();
});

async function streamsOf(prefix: string): Promise<string[]> {
  const names: string[] = [];
  for await (const name of jsm.streams.names()) if (name.includes(prefix)) names.push(name);
  return names;
}

describe("createTestNats cleanup", () => {
  it("deletes every stream of its prefix past the first page of the listing (256)", async () => {
    const nats = createTestNats("cleanup");
    const other = createTestNats("cleanupkeep");
    try {
      const count = 300;
      for (let i = 0; i < count; i += 25) {
        await Promise.all(
          Array.from({ length: Math.min(25, count - i) }, (_, k) => jsm.streams.add({ name: `${nats.prefix}_s${i + k}`, subjects: [`${nats.prefix}.s${i + k}`] })),
        );
      }
      await jsm.streams.add({ name: `${other.prefix}_kept`, subjects: [`${other.prefix}.kept`] });
      expect(await streamsOf(nats.prefix)).toHaveLength(count);

      await nats.cleanup();

      expect(await streamsOf(nats.prefix)).toEqual([]);
      expect(await streamsOf(other.prefix)).toEqual([`${other.prefix}_kept`]); // another prefix is left alone
    } finally {
      await nats.cleanup();
      await other.cleanup();
    }
  });
});
