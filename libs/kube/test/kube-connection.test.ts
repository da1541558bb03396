// The kubeconfig / in-cluster loader that replaces @kubernetes/client-node in the agent: what it
// reads from each kind of kubeconfig, its errors, and that KubeHttp sends its credentials. The
// TLS handshake with a real API server is in kube-connection.kube.test.ts.
import { createServer, type IncomingHttpHeaders } from "node:http";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { KubeHttp } from "../src/http.js";
import {
  inCluster,
  inClusterKubeConnection,
  isKubeConfig,
  KubeconfigError,
  KubeconfigNeedsPluginError,
  kubeConnectionFromKubeconfig,
  loadKubeCredentials,
  type KubeConnection,
} from "../src/kube-connection.js";

const b64 = (s: string) => Buffer.from(s).toString("base64");
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "kube-connection-"));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

interface ConfigParts {
  cluster?: Record<string, unknown>;
  user?: Record<string, unknown>;
  currentContext?: string | null;
}

/** Writes a kubeconfig with one cluster "c", one user "u" and one context "ctx" (YAML). */
async function kubeconfig(name: string, parts: ConfigParts): Promise<string> {
  const doc = [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    "- name: c",
    "  cluster:",
    ...Object.entries(parts.cluster ?? { server: "https://10.1.2.3:6443" }).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`),
    "users:",
    "- name: u",
    "  user:",
    ...Object.entries(parts.user ?? {}).map(([k, v]) => `    ${k}: ${JSON.stringify(v)}`),
    "contexts:",
    "- name: ctx",
    "  context: {cluster: c, user: u}",
    ...(parts.currentContext === null ? [] : [`current-context: ${parts.currentContext ?? "ctx"}`]),
  ].join("\n");
  const path = join(dir, name);
  await writeFile(path, doc + "\n");
  return path;
}

describe("kubeConnectionFromKubeconfig", () => {
  it("reads the server and base64 certificate data of the current context", async () => {
    const path = await kubeconfig("data.yaml", {
      cluster: { server: "https://10.1.2.3:6443", "certificate-authority-data": b64("CA PEM") },
      user: { "client-certificate-data": b64("CERT PEM"), "client-key-data": b64("KEY PEM") },
    });
    const c = kubeConnectionFromKubeconfig(path);
    expect(c.server).toBe("https://10.1.2.3:6443");
    expect(c.ca?.toString()).toBe("CA PEM");
    expect(c.cert?.toString()).toBe("CERT PEM");
    expect(c.key?.toString()).toBe("KEY PEM");
    expect(c.token).toBeUndefined();
    expect(c.insecureSkipTLSVerify).toBeUndefined();
    expect(c.identity).toContain(path);
    expect(c.identity).toContain('user "u"');
  });

  it("reads certificate files relative to the kubeconfig's directory", async () => {
    await mkdir(join(dir, "pki"), { recursive: true });
    await writeFile(join(dir, "pki", "ca.crt"), "CA FROM FILE");
    await writeFile(join(dir, "pki", "client.crt"), "CERT FROM FILE");
    await writeFile(join(dir, "abs-client.key"), "KEY FROM FILE");
    const path = await kubeconfig("files.yaml", {
      cluster: { server: "https://h:6443", "certificate-authority": "pki/ca.crt" },
      user: { "client-certificate": "pki/client.crt", "client-key": join(dir, "abs-client.key") },
    });
    const c = kubeConnectionFromKubeconfig(path);
    expect(c.ca?.toString()).toBe("CA FROM FILE");
    expect(c.cert?.toString()).toBe("CERT FROM FILE");
    expect(c.key?.toString()).toBe("KEY FROM FILE");
  });

  it("names the missing certificate file", async () => {
    const path = await kubeconfig("missing-file.yaml", { cluster: { server: "https://h:6443", "certificate-authority": "nope/ca.crt" } });
    expect(() => kubeConnectionFromKubeconfig(path)).toThrow(KubeconfigError);
    expect(() => kubeConnectionFromKubeconfig(path)).toThrow(/cluster "c": certificate-authority .*nope\/ca\.crt/);
  });

  it("reads a token, and a tokenFile relative to the kubeconfig", async () => {
    const withToken = await kubeconfig("token.yaml", { user: { token: "abc.def" } });
    expect(kubeConnectionFromKubeconfig(withToken).token).toBe("abc.def");

    await writeFile(join(dir, "sa-token"), "from-file\n");
    const withFile = await kubeconfig("token-file.yaml", { user: { tokenFile: "sa-token" } });
    const token = kubeConnectionFromKubeconfig(withFile).token;
    expect(typeof token).toBe("function");
    expect((token as () => string)()).toBe("from-file");
  });

  it("honours insecure-skip-tls-verify and tls-server-name", async () => {
    const path = await kubeconfig("insecure.yaml", { cluster: { server: "https://h:6443", "insecure-skip-tls-verify": true, "tls-server-name": "kubernetes" } });
    const c = kubeConnectionFromKubeconfig(path);
    expect(c.insecureSkipTLSVerify).toBe(true);
    expect(c.tlsServerName).toBe("kubernetes");
  });

  it("without current-context, fails naming the file and what to do; a context can be chosen", async () => {
    const path = await kubeconfig("no-context.yaml", { currentContext: null, user: { token: "t" } });
    expect(() => kubeConnectionFromKubeconfig(path)).toThrow(KubeconfigError);
    expect(() => kubeConnectionFromKubeconfig(path)).toThrow(new RegExp(`${path}: no current-context: choose one with "kubectl config use-context`));
    expect(kubeConnectionFromKubeconfig(path, { context: "ctx" }).token).toBe("t");
  });

  it("names a current-context that does not exist", async () => {
    const path = await kubeconfig("dangling.yaml", { currentContext: "prod" });
    expect(() => kubeConnectionFromKubeconfig(path)).toThrow(/no entry named "prod" in contexts/);
  });

  it("refuses exec and auth-provider users, naming the kubeconfig, the user and what to do", async () => {
    const exec = await kubeconfig("exec.yaml", { user: { exec: { apiVersion: "client.authentication.k8s.io/v1", command: "get-token" } } });
    expect(() => kubeConnectionFromKubeconfig(exec)).toThrow(KubeconfigNeedsPluginError);
    expect(() => kubeConnectionFromKubeconfig(exec)).toThrow(new RegExp(`kubeconfig ${exec}: user "u" authenticates with exec.*loadKubeCredentials`));
    const provider = await kubeconfig("auth-provider.yaml", { user: { "auth-provider": { name: "oidc" } } });
    expect(() => kubeConnectionFromKubeconfig(provider)).toThrow(/authenticates with auth-provider/);
  });

  it("names an unreadable or malformed file", async () => {
    expect(() => kubeConnectionFromKubeconfig(join(dir, "absent.yaml"))).toThrow(/absent\.yaml: cannot read it/);
    await writeFile(join(dir, "bad.yaml"), "clusters: [\n");
    expect(() => kubeConnectionFromKubeconfig(join(dir, "bad.yaml"))).toThrow(/bad\.yaml: not valid YAML/);
  });
});

describe("loadKubeCredentials", () => {
  it("falls back to @kubernetes/client-node for an exec-plugin user", async () => {
    const path = await kubeconfig("exec-fallback.yaml", { user: { exec: { apiVersion: "client.authentication.k8s.io/v1", command: "get-token" } } });
    const creds = await loadKubeCredentials(path);
    expect(isKubeConfig(creds)).toBe(true);
    if (isKubeConfig(creds)) expect(creds.getCurrentUser()?.exec).toMatchObject({ command: "get-token" });
  });

  it("reads a token kubeconfig without client-node and passes loaded credentials through", async () => {
    const path = await kubeconfig("plain.yaml", { user: { token: "t1" } });
    const creds = await loadKubeCredentials(path);
    expect(isKubeConfig(creds)).toBe(false);
    expect((creds as KubeConnection).token).toBe("t1");
    expect(await loadKubeCredentials(creds)).toBe(creds);
  });

  it("without a path: in-cluster in a pod, else the first file of $KUBECONFIG", async () => {
    const sa = join(dir, "sa");
    await mkdir(sa, { recursive: true });
    await writeFile(join(sa, "token"), "pod-token");
    await writeFile(join(sa, "ca.crt"), "POD CA");
    const pod = await loadKubeCredentials(undefined, { env: { KUBERNETES_SERVICE_HOST: "10.96.0.1", KUBERNETES_SERVICE_PORT: "443" }, serviceAccountDir: sa });
    expect((pod as KubeConnection).server).toBe("https://10.96.0.1:443");

    const path = await kubeconfig("env.yaml", { user: { token: "from-env" } });
    const viaEnv = await loadKubeCredentials(undefined, { env: { KUBECONFIG: path } });
    expect((viaEnv as KubeConnection).token).toBe("from-env");
  });
});

describe("inClusterKubeConnection", () => {
  it("reads the service account mount and the service address; re-reads a rotated token", async () => {
    const sa = join(dir, "sa-rotating");
    await mkdir(sa, { recursive: true });
    await writeFile(join(sa, "token"), "first\n");
    await writeFile(join(sa, "ca.crt"), "CLUSTER CA");
    const env = { KUBERNETES_SERVICE_HOST: "fd00::1", KUBERNETES_SERVICE_PORT: "6443" };
    expect(inCluster({ env })).toBe(true);
    const c = inClusterKubeConnection({ env, serviceAccountDir: sa });
    expect(c.server).toBe("https://[fd00::1]:6443");
    expect(c.ca?.toString()).toBe("CLUSTER CA");
    expect(typeof c.token).toBe("function");
    expect((c.token as () => string)()).toBe("first");
    expect(c.identity).toContain(sa);
  });

  it("fails clearly outside a pod or without a mounted token", () => {
    expect(inCluster({ env: {} })).toBe(false);
    expect(() => inClusterKubeConnection({ env: {} })).toThrow(/KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT are not set/);
    const env = { KUBERNETES_SERVICE_HOST: "10.0.0.1", KUBERNETES_SERVICE_PORT: "443" };
    expect(() => inClusterKubeConnection({ env, serviceAccountDir: join(dir, "no-such-sa") })).toThrow(/cannot read the service account in .*no-such-sa/);
  });
});

describe("KubeHttp with a KubeConnection", () => {
  it("sends the bearer token, calling a token function on every request", async () => {
    const seen: IncomingHttpHeaders[] = [];
    const server = createServer((req, res) => {
      seen.push(req.headers);
      res.setHeader("Content-Type", "application/json");
      res.end(JSON.stringify({ path: req.url }));
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    const port = (server.address() as { port: number }).port;
    let n = 0;
    const http = new KubeHttp({ server: `http://127.0.0.1:${port}/prefix`, token: () => `tok-${++n}`, identity: "test" });
    try {
      const first = await http.request("GET", "/api/v1/namespaces");
      const second = await http.request("GET", "/version");
      expect(first).toEqual({ status: 200, body: { path: "/prefix/api/v1/namespaces" } });
      expect(second.status).toBe(200);
      expect(seen.map((h) => h.authorization)).toEqual(["Bearer tok-1", "Bearer tok-2"]);
    } finally {
      http.close();
      await new Promise((r) => server.close(r));
    }
  });

  it("names the connection when its server is not a URL", () => {
    expect(() => new KubeHttp({ server: "not a url", identity: "kubeconfig /x (context \"a\")" })).toThrow(/kubeconfig \/x \(context "a"\): server "not a url" is not a URL/);
  });
});
