// Where an API server is and how to authenticate to it, read without @kubernetes/client-node:
// importing that library costs an agent ~75 MB of resident memory, while the agent only needs
// the server, the TLS material and a token. Users that need code to authenticate (exec plugins,
// auth providers) are handed to client-node, imported lazily only then (loadKubeCredentials).
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { delimiter, dirname, isAbsolute, join, resolve } from "node:path";
import type { KubeConfig } from "@kubernetes/client-node";
import { parse as parseYaml } from "yaml";

export interface KubeConnection {
  /** API server URL, e.g. `https://10.0.0.1:6443`. */
  server: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  /** Bearer token; a function is called per request (in-cluster and file tokens rotate). */
  token?: string | (() => string);
  insecureSkipTLSVerify?: boolean;
  /** SNI / certificate name to expect instead of the server's host. */
  tlsServerName?: string;
  /** Where these credentials came from, for messages (never holds a secret). */
  identity: string;
}

/** Anything KubeHttp and KubeClient accept: our connection, or a client-node KubeConfig. */
export type KubeCredentials = KubeConnection | KubeConfig;

/** Duck-typed so that KubeConfig instances from any copy of client-node are recognised. */
export function isKubeConfig(c: KubeCredentials): c is KubeConfig {
  return typeof (c as { applyToHTTPSOptions?: unknown }).applyToHTTPSOptions === "function";
}

/** A kubeconfig this loader cannot turn into a KubeConnection (the user authenticates through
 * code: an exec plugin or an auth provider). */
export class KubeconfigNeedsPluginError extends Error {
  constructor(
    readonly path: string,
    readonly user: string,
    readonly mechanism: "exec" | "auth-provider" | "username/password",
  ) {
    super(
      `kubeconfig ${path}: user "${user}" authenticates with ${mechanism}, which needs @kubernetes/client-node: ` +
        `load it with loadKubeCredentials (it falls back to client-node), or give this user a client certificate or a token`,
    );
    this.name = "KubeconfigNeedsPluginError";
  }
}

/** A kubeconfig that is missing or malformed: the message names the file and the field. */
export class KubeconfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "KubeconfigError";
  }
}

export interface KubeconfigReadOptions {
  /** Context to use instead of the file's current-context. */
  context?: string;
}

type Dict = Record<string, unknown>;
const isDict = (v: unknown): v is Dict => typeof v === "object" && v !== null && !Array.isArray(v);

/** Re-reads a file at most every `ttlMs` (tokens rotate; a read per request is wasteful). */
function fileToken(path: string, ttlMs = 60_000): () => string {
  let cached = "";
  let readAt = -Infinity;
  return () => {
    const now = Date.now();
    if (now - readAt >= ttlMs) {
      cached = readFileSync(path, "utf8").trim();
      readAt = now;
    }
    return cached;
  };
}

function named(doc: Dict, list: string, entry: string, name: string, path: string): Dict {
  const items = doc[list];
  const found = Array.isArray(items) ? items.find((i) => isDict(i) && i["name"] === name) : undefined;
  if (!isDict(found)) throw new KubeconfigError(`kubeconfig ${path}: no entry named "${name}" in ${list}`);
  const body = found[entry];
  return isDict(body) ? body : {};
}

function str(d: Dict, field: string, where: string): string | undefined {
  const v = d[field];
  if (v === undefined || v === null || v === "") return undefined;
  if (typeof v !== "string") throw new KubeconfigError(`${where}: ${field} must be a string`);
  return v;
}

/** `<field>-data` (base64) or `<field>` (a file, relative to the kubeconfig's directory). */
function material(d: Dict, field: string, dir: string, where: string): Buffer | undefined {
  const data = str(d, `${field}-data`, where);
  if (data) return Buffer.from(data, "base64");
  const file = str(d, field, where);
  if (!file) return undefined;
  const full = isAbsolute(file) ? file : resolve(dir, file);
  try {
    return readFileSync(full);
  } catch (err) {
    throw new KubeconfigError(`${where}: ${field} ${full}: ${(err as Error).message}`);
  }
}

/** Parses kubeconfig text; `path` names it in messages and anchors relative file paths. */
export function kubeConnectionFromKubeconfigText(text: string, path: string, opts: KubeconfigReadOptions = {}): KubeConnection {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new KubeconfigError(`kubeconfig ${path}: not valid YAML (${(err as Error).message})`);
  }
  if (!isDict(doc)) throw new KubeconfigError(`kubeconfig ${path}: expected a mapping with clusters, users and contexts`);
  const contextName = opts.context ?? (typeof doc["current-context"] === "string" ? doc["current-context"] : "");
  if (!contextName) {
    throw new KubeconfigError(`kubeconfig ${path}: no current-context: choose one with "kubectl config use-context NAME" (or pass a context)`);
  }
  const context = named(doc, "contexts", "context", contextName, path);
  const clusterName = str(context, "cluster", `kubeconfig ${path}: context "${contextName}"`);
  if (!clusterName) throw new KubeconfigError(`kubeconfig ${path}: context "${contextName}" names no cluster`);
  const cluster = named(doc, "clusters", "cluster", clusterName, path);
  const clusterWhere = `kubeconfig ${path}: cluster "${clusterName}"`;
  const server = str(cluster, "server", clusterWhere);
  if (!server) throw new KubeconfigError(`${clusterWhere}: no server URL`);
  const dir = dirname(resolve(path));
  const userName = str(context, "user", `kubeconfig ${path}: context "${contextName}"`);
  const user = userName ? named(doc, "users", "user", userName, path) : {};
  const userWhere = `kubeconfig ${path}: user "${userName ?? ""}"`;

  if (user["exec"] !== undefined) throw new KubeconfigNeedsPluginError(path, userName ?? "", "exec");
  if (user["auth-provider"] !== undefined) throw new KubeconfigNeedsPluginError(path, userName ?? "", "auth-provider");
  if (user["username"] !== undefined || user["password"] !== undefined) throw new KubeconfigNeedsPluginError(path, userName ?? "", "username/password");

  const token = str(user, "token", userWhere);
  const tokenFile = str(user, "tokenFile", userWhere);
  const ca = material(cluster, "certificate-authority", dir, clusterWhere);
  const cert = material(user, "client-certificate", dir, userWhere);
  const key = material(user, "client-key", dir, userWhere);
  if (Boolean(cert) !== Boolean(key)) throw new KubeconfigError(`${userWhere}: a client certificate needs both the certificate and its key`);
  const tlsServerName = str(cluster, "tls-server-name", clusterWhere);
  return {
    server,
    ...(ca ? { ca } : {}),
    ...(cert && key ? { cert, key } : {}),
    ...(token ? { token } : tokenFile ? { token: fileToken(isAbsolute(tokenFile) ? tokenFile : resolve(dir, tokenFile)) } : {}),
    ...(cluster["insecure-skip-tls-verify"] === true ? { insecureSkipTLSVerify: true } : {}),
    ...(tlsServerName ? { tlsServerName } : {}),
    identity: `kubeconfig ${path} (context "${contextName}", user "${userName ?? ""}")`,
  };
}

/** Reads one kubeconfig file. Throws KubeconfigError, or KubeconfigNeedsPluginError for exec
 * and auth-provider users. */
export function kubeConnectionFromKubeconfig(path: string, opts: KubeconfigReadOptions = {}): KubeConnection {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (err) {
    throw new KubeconfigError(`kubeconfig ${path}: cannot read it (${(err as Error).message})`);
  }
  return kubeConnectionFromKubeconfigText(text, path, opts);
}

export interface InClusterOptions {
  /** Default: the service account mount, /var/run/secrets/kubernetes.io/serviceaccount. */
  serviceAccountDir?: string;
  env?: NodeJS.ProcessEnv;
}

export const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** Whether this process runs in a pod (the API server's address is in the environment). */
export function inCluster(opts: InClusterOptions = {}): boolean {
  const env = opts.env ?? process.env;
  return Boolean(env["KUBERNETES_SERVICE_HOST"] && env["KUBERNETES_SERVICE_PORT"]);
}

/** The pod's service account: the token file is re-read as the kubelet rotates it. */
export function inClusterKubeConnection(opts: InClusterOptions = {}): KubeConnection {
  const env = opts.env ?? process.env;
  const dir = opts.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  const host = env["KUBERNETES_SERVICE_HOST"];
  const port = env["KUBERNETES_SERVICE_PORT"];
  if (!host || !port) {
    throw new KubeconfigError("in-cluster config: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set: run in a pod, or give a kubeconfig");
  }
  const tokenPath = join(dir, "token");
  const token = fileToken(tokenPath);
  let ca: Buffer;
  try {
    token(); // fail now, naming the file, rather than at the first request
    ca = readFileSync(join(dir, "ca.crt"));
  } catch (err) {
    throw new KubeconfigError(`in-cluster config: cannot read the service account in ${dir} (${(err as Error).message}): is a token mounted?`);
  }
  const hostPart = host.includes(":") ? `[${host}]` : host;
  return { server: `https://${hostPart}:${port}`, ca, token, identity: `in-cluster service account (${dir})` };
}

export interface LoadKubeCredentialsOptions extends InClusterOptions, KubeconfigReadOptions {}

/** The kubeconfig files of $KUBECONFIG, else ~/.kube/config. */
function defaultKubeconfigPaths(env: NodeJS.ProcessEnv): string[] {
  const fromEnv = (env["KUBECONFIG"] ?? "").split(delimiter).filter(Boolean);
  return fromEnv.length ? fromEnv : [join(env["HOME"] || homedir(), ".kube", "config")];
}

/**
 * Credentials from a kubeconfig file, a KubeConnection or KubeConfig (returned as is), or —
 * undefined — in-cluster when running in a pod, else the first file of $KUBECONFIG, else
 * ~/.kube/config. Exec-plugin and auth-provider users fall back to client-node, imported here
 * only for them.
 */
export async function loadKubeCredentials(source?: string | KubeCredentials, opts: LoadKubeCredentialsOptions = {}): Promise<KubeCredentials> {
  if (source !== undefined && typeof source !== "string") return source;
  const env = opts.env ?? process.env;
  if (source === undefined && inCluster(opts)) return inClusterKubeConnection(opts);
  const path = source ?? defaultKubeconfigPaths(env)[0]!;
  try {
    return kubeConnectionFromKubeconfig(path, opts);
  } catch (err) {
    if (!(err instanceof KubeconfigNeedsPluginError)) throw err;
    const { KubeConfig } = await import("@kubernetes/client-node");
    const kc = new KubeConfig();
    kc.loadFromFile(path);
    if (opts.context) kc.setCurrentContext(opts.context);
    return kc;
  }
}
