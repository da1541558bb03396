// A private N-node nats-server cluster with JetStream on loopback (own client and route ports, own
// store per member), for tests that kill a member and bring it back. Streams created on it with
// `num_replicas: N` survive the loss of a minority.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePorts } from "./free-ports.js";
import { spawnNatsServer, type NatsServerProcess } from "./private-nats.js";

export interface PrivateNatsCluster {
  /** Every member's client URL (give all to a client, so it fails over). */
  urls: string[];
  /** SIGKILL of member `i` (no clean shutdown, no leadership hand-off). */
  kill(i: number): Promise<void>;
  /** (Re)starts member `i` on its ports and store. */
  start(i: number): Promise<void>;
  dispose(): Promise<void>;
}

export async function privateNatsCluster(size = 3, name = "flotilla-test"): Promise<PrivateNatsCluster> {
  const dir = await mkdtemp(join(tmpdir(), "flotilla-nats-cluster-"));
  const ports = await freePorts(2 * size);
  const client = ports.slice(0, size);
  const route = ports.slice(size);
  const routes = route.map((p) => `nats-route://127.0.0.1:${p}`).join(",");
  const members: (NatsServerProcess | undefined)[] = new Array(size).fill(undefined);
  const args = (i: number) => [
    "-js", "-a", "127.0.0.1", "-p", String(client[i]), "-sd", join(dir, `n${i}`),
    "-n", `${name}-n${i}`, "--cluster_name", name, "--cluster", `nats://127.0.0.1:${route[i]}`, "--routes", routes,
  ];
  const start = async (i: number) => {
    if (members[i]) return;
    members[i] = await spawnNatsServer(args(i), client[i]!);
  };
  await Promise.all(client.map((_, i) => start(i)));
  return {
    urls: client.map((p) => `nats://127.0.0.1:${p}`),
    async kill(i) {
      const m = members[i];
      members[i] = undefined;
      await m?.kill();
    },
    start,
    async dispose() {
      await Promise.all(members.map((m) => m?.stop()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
