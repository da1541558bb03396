// A remote agent's NATS, as installed: the hub's nats-server runs the configuration
// `flotilla nats-config --js-domain hub --leaf-url …` writes (writeFleetNatsFiles, the function the
// CLI calls) plus the leafnodes block of deploy/nats/leafnodes; the remote cluster's leaf node
// runs the nats.conf of deploy/nats/leaf-remote with FLOTILLA_LEAF_URL from the generated
// leaf-<cluster>.env. Only what cannot exist on a test machine is moved: listen addresses to free
// loopback ports, the TLS files to a private CA's. The leaf reaches the hub through a TCP gate,
// so a test can cut the link (the network between the clusters) and restore it.
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { KubeObject } from "@flotilla/model";
import { fsFileView, renderKustomization } from "@flotilla/overlays";
import { NATS_CONFIG_FILE, writeFleetNatsFiles, type FleetNatsFiles } from "@flotilla/hub";
import { createPki, freePort, spawnNatsServer, type NatsServerProcess } from "@flotilla/testkit";
import { wireNames, type WireNames } from "@flotilla/wire";
import { tcpGate, type TcpGate } from "../faults/support/tcp-gate.js";

const ROOT = fileURLToPath(new URL("../../../../", import.meta.url));

export interface LeafNatsOptions {
  /** Every cluster of the fleet (each gets a user). */
  clusters: string[];
  /** The remote cluster whose leaf node is started. */
  leafCluster: string;
  prefix: string;
}

export interface LeafNats {
  names: WireNames;
  /** What writeFleetNatsFiles wrote (credentials, env files). */
  files: FleetNatsFiles;
  /** The hub's nats-server (client port: the hub connects here). */
  readonly hub: NatsServerProcess;
  /** SIGKILLs the hub's nats-server (a crash) and starts it again on its port, config and store
   * once `whileDown` has run. */
  crashHub(whileDown: () => Promise<void>): Promise<void>;
  /** The leaf node in the remote cluster (client port: the agent connects here). */
  leaf: NatsServerProcess;
  /** Between the leaf and the hub's leafnodes port: down() cuts the link. */
  link: TcpGate;
  /** Leaf node connections the leaf server has up (its /leafz). */
  leafLinks(): Promise<number>;
  /** Subscriptions the hub's server holds for its leaf node connections (its /leafz). */
  hubLeafSubscriptions(): Promise<string[]>;
  /** Subscriptions of the leaf's client connections named `name` (its /connz). */
  leafSubscriptions(name: string): Promise<string[]>;
  /** The config files as run, for failure messages. */
  hubConfig: string;
  leafConfig: string;
  dispose(): Promise<void>;
}

/** KEY=value lines (what `set -a; . file` reads). */
export async function readEnvFile(path: string): Promise<Record<string, string>> {
  const text = await readFile(path, "utf8");
  return Object.fromEntries(
    text
      .split("\n")
      .filter((l) => l.includes("="))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
}

/** A ConfigMap's data from a rendered kustomization under deploy/. */
function configMapData(path: string, name: string): Record<string, string> {
  const r = renderKustomization(fsFileView(ROOT), path);
  if (!r.ok) throw r.error;
  const cm = r.objects.find((o) => o.kind === "ConfigMap" && o.metadata.name === name) as (KubeObject & { data?: Record<string, string> }) | undefined;
  if (!cm?.data) throw new Error(`${path} renders no ConfigMap ${name} with data`);
  return cm.data;
}

/** `text` with each `from` replaced; each must occur, or the manifest changed under the test. */
function moved(text: string, what: string, replacements: [string, string][]): string {
  return replacements.reduce((t, [from, to]) => {
    if (!t.includes(from)) throw new Error(`${what} no longer contains ${JSON.stringify(from)}; keep the test in step with the manifest`);
    return t.replaceAll(from, to);
  }, text);
}

export async function startLeafNats(o: LeafNatsOptions): Promise<LeafNats> {
  const dir = await mkdtemp(join(tmpdir(), "flotilla-leafnode-"));
  const cleanups: (() => Promise<unknown>)[] = [() => rm(dir, { recursive: true, force: true })];
  const dispose = async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  };
  try {
    const [hubPort, leafnodesPort, leafPort, leafMonitor, hubMonitor] = await distinctFreePorts(5);
    const pki = await createPki(join(dir, "pki"), "leafnodes", []);
    // The leaf reaches the hub's leafnodes port only through the gate.
    const link = await tcpGate(leafnodesPort!);
    cleanups.push(() => link.close());

    const names = wireNames(o.prefix);
    const hubDir = join(dir, "hub");
    await mkdir(hubDir, { recursive: true });
    const files = await writeFleetNatsFiles({
      dir: join(hubDir, "auth"),
      names,
      clusters: o.clusters,
      listen: `127.0.0.1:${hubPort}`,
      jetstreamDir: join(hubDir, "jetstream"),
      jsDomain: "hub",
      leafUrl: `tls://127.0.0.1:${link.port}`,
    });
    // As in deploy/nats/base: the generated file first, the leafnodes block after it.
    const leafnodes = moved(configMapData("deploy/nats/leafnodes", "nats-config")["leafnodes.conf"]!, "deploy/nats/leafnodes leafnodes.conf", [
      ['listen: "0.0.0.0:7422"', `listen: "127.0.0.1:${leafnodesPort}"`],
      // Switched on, as an install does: otherwise the leaf learns the listen address and, once
      // the link is cut, reconnects there past the gate.
      ['# advertise: "leaf.nats.hub.example.com:7422"', `advertise: "127.0.0.1:${link.port}"`],
      ["/etc/nats/leafnodes-tls/tls.crt", pki.serving.certPath],
      ["/etc/nats/leafnodes-tls/tls.key", pki.serving.keyPath],
    ]);
    // The monitoring port lets the test see which subscriptions the hub took from the leaf.
    const hubConfig = `include "auth/${NATS_CONFIG_FILE}"\nhttp: "127.0.0.1:${hubMonitor}"\n${leafnodes}`;
    await writeFile(join(hubDir, "nats.conf"), hubConfig);
    const startHub = () => spawnNatsServer(["-c", join(hubDir, "nats.conf")], hubPort!);
    let hub = await startHub();
    cleanups.push(() => hub.stop());

    // The remote side: the manifest's nats.conf, its CA line switched on for the private CA.
    const leafConfig = moved(configMapData("deploy/nats/leaf-remote", "nats-leaf-config")["nats.conf"]!, "deploy/nats/leaf-remote nats.conf", [
      ['listen: "0.0.0.0:4222"', `listen: "127.0.0.1:${leafPort}"`],
      ["http_port: 8222", `http: "127.0.0.1:${leafMonitor}"`],
      ['# tls { ca_file: "/etc/nats/leaf-ca/ca.crt" }', `tls { ca_file: "${pki.caPath}" }`],
    ]);
    await writeFile(join(dir, "leaf.conf"), leafConfig);
    const leafEnv = await readEnvFile(files.agents[o.leafCluster]!.leafEnvPath!);
    const leaf = await spawnNatsServer(["-c", join(dir, "leaf.conf")], leafPort!, 20_000, { POD_NAME: "nats-leaf-0", FLOTILLA_LEAF_URL: leafEnv.FLOTILLA_LEAF_URL! });
    cleanups.push(() => leaf.stop());

    return {
      names,
      files,
      get hub() {
        return hub;
      },
      async crashHub(whileDown) {
        await hub.kill();
        try {
          await whileDown();
        } finally {
          hub = await startHub();
        }
      },
      leaf,
      link,
      hubConfig,
      leafConfig,
      async leafLinks() {
        const res = await fetch(`http://127.0.0.1:${leafMonitor}/leafz`);
        return ((await res.json()) as { leafnodes: number }).leafnodes;
      },
      async hubLeafSubscriptions() {
        const res = await fetch(`http://127.0.0.1:${hubMonitor}/leafz?subs=1`);
        const leafz = (await res.json()) as { leafs: { subscriptions_list?: string[] }[] };
        return leafz.leafs.flatMap((l) => l.subscriptions_list ?? []);
      },
      async leafSubscriptions(name) {
        const res = await fetch(`http://127.0.0.1:${leafMonitor}/connz?subs=1`);
        const connz = (await res.json()) as { connections: { name?: string; subscriptions_list?: string[] }[] };
        return connz.connections.filter((c) => c.name === name).flatMap((c) => c.subscriptions_list ?? []);
      },
      dispose,
    };
  } catch (err) {
    await dispose();
    throw err;
  }
}

async function distinctFreePorts(n: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}
