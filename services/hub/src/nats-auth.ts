// The NATS server configuration for a fleet: one user for the hub, one per cluster agent, each
// limited to the subjects it needs. nats-server 2.9 static configs have no permission templates,
// so every agent gets its own block, and adding a cluster means regenerating the file and
// reloading the server (see nats-auth-files.ts). Why each subject is there: docs/nats-security.md.
import { randomBytes } from "node:crypto";
import { CLUSTER_NAME, bundleStoreOf, objectChunksSubjectOf, objectStoreStreamOf, type WireNames } from "@flotilla/wire";

export interface NatsPermissions {
  publish: string[];
  subscribe: string[];
}

export interface NatsClusterCredentials {
  /** Cluster name (a subject token and KV key part). */
  name: string;
  /** NATS user of the cluster's agent; default `agent-<name>`. */
  user?: string;
  /** Plaintext password, or a bcrypt hash (`$2a$…`) which nats-server recognises as such. */
  password: string;
}

export interface NatsConfigOptions {
  names: WireNames;
  clusters: readonly NatsClusterCredentials[];
  hub: { user: string; password: string };
  /** `host:port` the server listens on; default `0.0.0.0:4222`. */
  listen?: string;
  /** JetStream store directory; default: nats-server's own default. */
  jetstreamDir?: string;
  /**
   * JetStream domain of this server (`jetstream { domain }`). Agents behind a leaf node reach
   * JetStream only through `$JS.<domain>.API.…`, so each agent is also granted those subjects.
   */
  jsDomain?: string;
}

/** JetStream domains are subject tokens too. */
export const JS_DOMAIN = /^[A-Za-z0-9_-]+$/;

/** The user an agent connects as unless the fleet says otherwise. */
export const agentNatsUser = (cluster: string): string => `agent-${cluster}`;

/**
 * The inbox prefix an agent must use (`connect({ inboxPrefix })`, `--nats-inbox-prefix`): its
 * replies, JetStream acks and watch deliveries arrive under it, and it may subscribe nowhere else.
 */
export const agentInboxPrefix = (cluster: string): string => `_INBOX_${cluster}`;

/** 32 random bytes, base64url: no character the config file or a shell would need to escape. */
export function generateNatsPassword(): string {
  return randomBytes(32).toString("base64url");
}

const kvStream = (names: WireNames): string => `KV_${names.desiredBucket}`;
const objStream = (names: WireNames, cluster: string): string => objectStoreStreamOf(bundleStoreOf(names, cluster));

/**
 * What the hub may do: everything JetStream offers (it creates and updates the bucket, the object
 * store, the report stream and its ingest consumer), write pointers and bundles, ack what it
 * ingests, answer flow control, and receive replies on the default inbox. It publishes no report.
 */
export function hubPermissions(names: WireNames): NatsPermissions {
  return {
    publish: [
      "$JS.API.>",
      `$KV.${names.desiredBucket}.>`,
      // Every cluster's bundle store (`<bundleStore>-<cluster>`: a bucket name is one subject
      // token, so no narrower wildcard exists; `$JS.API.>` already gives the hub the streams).
      "$O.>",
      `$JS.ACK.${names.reportStream}.>`,
      "$JS.FC.>",
    ],
    subscribe: ["_INBOX.>"],
  };
}

/**
 * What one cluster's agent may do. Every grant names the cluster (or its own bundle store) before
 * any wildcard, so no subject the agent can form reaches another cluster's keys, watches, reports
 * or bundles. Deliberately absent: `$JS.API.STREAM.MSG.GET.KV_<b>` and the
 * unsuffixed `$JS.API.DIRECT.GET.KV_<b>` (both take any key in the request body), consumer
 * info/delete/list, and stream info.
 */
export function agentPermissions(names: WireNames, cluster: string, opts: { jsDomain?: string } = {}): NatsPermissions {
  checkCluster(cluster);
  const grants = agentLocalGrants(names, cluster);
  // Through a leaf node (or with `jetstream(nc, { domain })`) the same API calls arrive as
  // `$JS.<domain>.API.…`: grant each one in that form too, nothing else.
  const domain = opts.jsDomain;
  if (domain !== undefined) checkDomain(domain);
  const inDomain = domain === undefined ? [] : grants.filter((s) => s.startsWith("$JS.API.")).map((s) => `$JS.${domain}.API.${s.slice("$JS.API.".length)}`);
  return { publish: [...grants, ...inDomain], subscribe: [`${agentInboxPrefix(cluster)}.>`] };
}

function agentLocalGrants(names: WireNames, cluster: string): string[] {
  const kv = kvStream(names);
  const b = names.desiredBucket;
  const obj = objStream(names, cluster);
  const s = bundleStoreOf(names, cluster);
  return [
    // Reports (status, drift, heartbeat); the JetStream ack comes back on the agent's inbox.
    `${names.prefix}.report.${cluster}.>`,
    // Reads of its own keys (`<cluster>.desired`, `<cluster>.control`), key in the subject.
    `$JS.API.DIRECT.GET.${kv}.$KV.${b}.${cluster}.>`,
    // Watches of its own keys: an ordered consumer whose filter is in the subject (2.9 checks
    // that the body's filter is the same).
    `$JS.API.CONSUMER.CREATE.${kv}.*.$KV.${b}.${cluster}.>`,
    // Flow-control replies of those watches.
    `$JS.FC.${kv}.>`,
    // Bundles, from the cluster's own store only (a stream of its own: 2.9 cannot scope reads
    // per object inside one). The metadata lookup by name and the read of a one-chunk bundle take
    // the subject in the body ...
    `$JS.API.STREAM.MSG.GET.${obj}`,
    // ... and larger bundles are read with an ordered consumer on one object's chunk subject.
    `$JS.API.CONSUMER.CREATE.${obj}.*.${objectChunksSubjectOf(s, "*")}`,
    `$JS.FC.${obj}.>`,
  ];
}

/** Renders a nats-server 2.9 configuration: listen address, JetStream, and one user per identity. */
export function generateNatsConfig(opts: NatsConfigOptions): string {
  const { names } = opts;
  const users: { user: string; password: string; perms: NatsPermissions; comment: string }[] = [
    { user: opts.hub.user, password: opts.hub.password, perms: hubPermissions(names), comment: "the hub" },
  ];
  const seenClusters = new Set<string>();
  for (const c of opts.clusters) {
    checkCluster(c.name);
    if (seenClusters.has(c.name)) throw new Error(`NATS config: cluster "${c.name}" is listed twice`);
    seenClusters.add(c.name);
    users.push({ user: c.user ?? agentNatsUser(c.name), password: c.password, perms: agentPermissions(names, c.name, opts.jsDomain === undefined ? {} : { jsDomain: opts.jsDomain }), comment: `agent of cluster ${c.name}` });
  }
  const seenUsers = new Set<string>();
  for (const u of users) {
    checkValue("user", u.user, u.comment);
    checkValue("password", u.password, u.comment);
    if (seenUsers.has(u.user)) throw new Error(`NATS config: user "${u.user}" (${u.comment}) is used twice; every identity needs its own user`);
    seenUsers.add(u.user);
  }

  const lines: string[] = [
    `# nats-server 2.9 configuration generated by flotilla for NATS prefix "${names.prefix}".`,
    "# Contains passwords: keep this file mode 0600. Regenerate it (do not edit) when clusters change,",
    "# then reload: nats-server --signal reload=<pid>  (or SIGHUP).",
    `listen: ${quote(opts.listen ?? "0.0.0.0:4222")}`,
    "",
    "jetstream {",
    ...(opts.jetstreamDir ? [`  store_dir: ${quote(opts.jetstreamDir)}`] : []),
    ...(opts.jsDomain !== undefined ? [`  domain: ${quote(opts.jsDomain)}`] : []),
    "}",
    "",
    "authorization {",
    "  users: [",
  ];
  for (const u of users) {
    lines.push(
      `    # ${u.comment}`,
      "    {",
      `      user: ${quote(u.user)}`,
      `      password: ${quote(u.password)}`,
      "      permissions: {",
      `        publish: { allow: ${list(u.perms.publish)} }`,
      `        subscribe: { allow: ${list(u.perms.subscribe)} }`,
      "      }",
      "    }",
    );
  }
  lines.push("  ]", "}", "");
  return lines.join("\n");
}

function checkCluster(cluster: string): void {
  if (!CLUSTER_NAME.test(cluster)) {
    throw new Error(`NATS config: cluster name "${cluster}" must match ${CLUSTER_NAME} (it is a subject token and a KV key part)`);
  }
}

function checkDomain(domain: string): void {
  if (!JS_DOMAIN.test(domain)) throw new Error(`NATS config: JetStream domain "${domain}" must match ${JS_DOMAIN} (it is a subject token)`);
}

/** Values go between double quotes: refuse what would need escaping rather than trust the lexer. */
function checkValue(field: string, value: string, who: string): void {
  if (!/^[\x21-\x7e]+$/.test(value) || /["\\]/.test(value)) {
    throw new Error(`NATS config: ${field} of ${who} must be printable ASCII without spaces, quotes or backslashes`);
  }
}

// Quoted strings are literal in the NATS config format: `$JS...` is not read as a variable.
const quote = (s: string): string => `"${s}"`;
/** One subject per line when there are several: the file is read by people reviewing grants. */
const list = (items: readonly string[]): string =>
  items.length <= 1 ? `[${items.map(quote).join(", ")}]` : `[\n${items.map((i) => `          ${quote(i)}`).join(",\n")}\n        ]`;
