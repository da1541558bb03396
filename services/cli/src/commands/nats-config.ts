// `flotilla nats-config`: writes the nats-server configuration that isolates the fleet's agents
// (one user per cluster, limited to its own KV keys and report subjects) and their credential
// files. Regenerating keeps existing passwords; reload the server to apply (SIGHUP).
import { readFileSync } from "node:fs";
import { FLEET_FILE } from "@flotilla/model";
import { readFleet } from "@flotilla/envrepo";
import { leafRemoteUrl, writeFleetNatsFiles } from "@flotilla/hub";
import { wireNames } from "@flotilla/wire";
import { helpText, parseCommand, requireString, UsageError, type CommandSpec } from "../args.js";

export const natsConfigCommand: CommandSpec = {
  name: "nats-config",
  summary: "Write a nats-server config with one permission-scoped user per cluster agent (and the hub), plus 0600 credential env files.",
  usage: "flotilla nats-config --out DIR (--fleet-file flotilla.yaml | --cluster NAME ...) [--js-domain hub --leaf-url tls://HOST:7422]",
  flags: [
    { name: "out", type: "string", description: "directory for nats-server.conf, credentials.json, hub.env and agent-<cluster>.env" },
    { name: "fleet-file", type: "string", description: `read the cluster names from this ${FLEET_FILE}` },
    { name: "cluster", type: "string", multiple: true, description: "a cluster name (repeatable)" },
    { name: "nats-prefix", env: "FLOTILLA_NATS_PREFIX", type: "string", description: "prefix of NATS buckets, streams and subjects", default: "flotilla" },
    { name: "listen", type: "string", description: "nats-server listen address", default: "127.0.0.1:4222" },
    { name: "jetstream-dir", type: "string", description: "JetStream store directory of the server" },
    {
      name: "js-domain",
      type: "string",
      description: "JetStream domain of the server (remote agents behind a leaf node): agents are also granted $JS.<domain>.API subjects, their env files get FLOTILLA_NATS_JS_DOMAIN",
    },
    {
      name: "leaf-url",
      type: "string",
      description: "the hub's leafnodes address as remote clusters reach it (e.g. tls://leaf.nats.example.com:7422): also writes leaf-<cluster>.env with FLOTILLA_LEAF_URL (that address with the agent's credentials) for deploy/nats/leaf-remote",
    },
    { name: "nats-ca", type: "string", description: "path of the CA file (PEM) of the server's TLS client port as the hub and agents see it: hub.env and agent-<cluster>.env get NATS_CA" },
  ],
};

export async function runNatsConfig(argv: string[]): Promise<number> {
  const p = parseCommand(natsConfigCommand, argv);
  if (p.help) {
    console.log(helpText(natsConfigCommand));
    return 0;
  }
  const dir = requireString(p, natsConfigCommand, "out");
  let clusters = (p.values.cluster as string[] | undefined) ?? [];
  if (p.values["fleet-file"]) {
    const file = String(p.values["fleet-file"]);
    const fleet = readFleet(readFileSync(file, "utf8"), file);
    if (!fleet.ok) throw new UsageError(fleet.errors.map((e) => e.message).join("\n"));
    clusters = [...clusters, ...fleet.fleet.clusters.map((c) => c.name)];
  }
  if (clusters.length === 0) throw new UsageError("flotilla nats-config: name the clusters with --fleet-file or --cluster");
  if (p.values["leaf-url"]) {
    // A bad address is a usage error, said before anything is written.
    try {
      leafRemoteUrl(String(p.values["leaf-url"]), "user", "password");
    } catch (err) {
      throw new UsageError(`flotilla nats-config --leaf-url: ${(err as Error).message}`);
    }
  }
  const files = await writeFleetNatsFiles({
    dir,
    names: wireNames(String(p.values["nats-prefix"])),
    clusters,
    listen: String(p.values.listen),
    ...(p.values["jetstream-dir"] ? { jetstreamDir: String(p.values["jetstream-dir"]) } : {}),
    ...(p.values["js-domain"] ? { jsDomain: String(p.values["js-domain"]) } : {}),
    ...(p.values["leaf-url"] ? { leafUrl: String(p.values["leaf-url"]) } : {}),
    ...(p.values["nats-ca"] ? { natsCaFile: String(p.values["nats-ca"]) } : {}),
  });
  console.log(`wrote ${files.configPath} (${clusters.length} agents; added: ${files.added.join(", ") || "none"}; removed: ${files.removed.join(", ") || "none"})`);
  console.log(`hub credentials: ${files.hub.envPath}`);
  for (const [c, a] of Object.entries(files.agents)) {
    console.log(`agent ${c}: ${a.envPath} (inbox prefix ${a.inboxPrefix})${a.leafEnvPath ? `, leaf node: ${a.leafEnvPath}` : ""}`);
  }
  console.log("apply with: nats-server -c <config>, or reload a running server with SIGHUP");
  return 0;
}
