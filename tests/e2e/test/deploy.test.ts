// The install manifests in deploy/: every kustomization builds with `kubectl kustomize` and with
// Flotilla's own renderer (libs/overlays) to the same objects; nothing in them carries a secret
// value; every workload runs as non-root with resources; the settings they give `flotilla hub` and
// `flotilla agent` are ones the command reads (its --help), and the Secrets they load as env files
// hold what `flotilla nats-config` writes; the NATS configurations parse with nats-server 2.9
// around a generated users file; the Dockerfile builds both images as a non-root user.
import { execFile, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { KubeObject } from "@flotilla/model";
import { fsFileView, KUSTOMIZATION_FILE_NAMES, renderKustomization } from "@flotilla/overlays";
import { kubectlKustomize, ROOT, withOverlay } from "./support/kubectl-kustomize.js";

const DEPLOY = join(ROOT, "deploy");
const MAIN = join(ROOT, "services/cli/src/main.ts");
const TSX = import.meta.resolve("tsx");

/** Every kustomization the install docs name; a new one is found by the walk below too. */
const EXPECTED = [
  "deploy/agent/base",
  "deploy/agent/cluster-wide",
  "deploy/agent/tenant",
  "deploy/hub",
  "deploy/nats/base",
  "deploy/nats/leaf-remote",
  "deploy/nats/leafnodes",
  "deploy/postgres",
];

/** The optional components (kind: Component), each built below on top of the overlays it patches. */
const COMPONENTS = ["deploy/agent/nats-tls", "deploy/hub/nats-tls", "deploy/nats/cert-manager", "deploy/nats/client-tls"];

/** Directories holding a kustomization of `kind` (Kustomization, or Component). */
function kustomizationDirs(dir: string, kind: "Kustomization" | "Component" = "Kustomization"): string[] {
  const entries = readdirSync(dir, { withFileTypes: true });
  const file = entries.find((e) => e.isFile() && (KUSTOMIZATION_FILE_NAMES as readonly string[]).includes(e.name));
  const isComponent = file !== undefined && /^kind:\s*Component\s*$/m.test(readFileSync(join(dir, file.name), "utf8"));
  const here = file && isComponent === (kind === "Component") ? [relative(ROOT, dir)] : [];
  return [...here, ...entries.filter((e) => e.isDirectory()).flatMap((e) => kustomizationDirs(join(dir, e.name), kind))].sort();
}

function flotillaRender(dir: string): KubeObject[] {
  const r = renderKustomization(fsFileView(ROOT), dir);
  if (!r.ok) throw new Error(`renderKustomization ${dir}: ${r.error.message}`);
  return JSON.parse(JSON.stringify(r.objects)) as KubeObject[];
}

function flotilla(args: string[]): Promise<{ status: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ["--conditions=@flotilla/source", "--import", TSX, MAIN, ...args], { cwd: ROOT, env: { PATH: process.env.PATH, HOME: process.env.HOME } }, (err, stdout, stderr) => {
      resolve({ status: err ? 1 : 0, stdout, stderr });
    });
  });
}

/** The environment variables a command reads, from its --help ("(env NAME" / "(env NAME;"). */
async function flagEnv(command: string): Promise<Set<string>> {
  const r = await flotilla([command, "--help"]);
  expect(r.status, r.stderr).toBe(0);
  return new Set([...r.stdout.matchAll(/\(env ([A-Z0-9_]+)/g)].map((m) => m[1]!));
}

/** KEY=value lines of an env file → keys. */
const envFileKeys = (text: string): string[] =>
  text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith("#"))
    .map((l) => l.slice(0, l.indexOf("=")));

interface Container {
  name: string;
  image?: string;
  args?: string[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string }; configMapKeyRef?: { name: string; key: string } } }[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; allowPrivilegeEscalation?: boolean; privileged?: boolean; readOnlyRootFilesystem?: boolean };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  readinessProbe?: { httpGet?: { path: string } };
  livenessProbe?: { httpGet?: { path: string } };
  volumeMounts?: { name: string; mountPath: string }[];
}
interface PodSpec {
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  containers: Container[];
  initContainers?: Container[];
  volumes?: { name: string; secret?: { secretName: string; items?: { key: string; path: string }[] }; configMap?: { name: string } }[];
  serviceAccountName?: string;
}
type Workload = KubeObject & { spec: { replicas?: number; template: { spec: PodSpec } } };

const WORKLOAD_KINDS = new Set(["Deployment", "StatefulSet", "DaemonSet"]);
const rendered = new Map<string, KubeObject[]>();
const objectsOf = (dir: string): KubeObject[] => {
  const objs = rendered.get(dir);
  if (!objs) throw new Error(`${dir} was not rendered`);
  return objs;
};
const find = <T extends KubeObject>(dir: string, kind: string, name: string): T => {
  const o = objectsOf(dir).find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`${dir}: no ${kind} ${name}`);
  return o as T;
};
const workloads = (dir: string): Workload[] => objectsOf(dir).filter((o) => WORKLOAD_KINDS.has(o.kind)) as Workload[];
const configMapData = (dir: string, name: string): Record<string, string> => find<KubeObject & { data: Record<string, string> }>(dir, "ConfigMap", name).data;

/** Every Secret a pod spec names: env, envFrom and volumes. */
function secretRefs(spec: PodSpec): Set<string> {
  const names = new Set<string>();
  for (const c of [...spec.containers, ...(spec.initContainers ?? [])]) {
    for (const e of c.env ?? []) if (e.valueFrom?.secretKeyRef) names.add(e.valueFrom.secretKeyRef.name);
    for (const e of c.envFrom ?? []) if (e.secretRef) names.add(e.secretRef.name);
  }
  for (const v of spec.volumes ?? []) if (v.secret) names.add(v.secret.secretName);
  return names;
}

/** The env var names a container gets from its literal env and from ConfigMaps in the same output. */
function configuredEnv(dir: string, c: Container): string[] {
  const names = (c.env ?? []).map((e) => e.name);
  for (const e of c.envFrom ?? []) if (e.configMapRef) names.push(...Object.keys(configMapData(dir, e.configMapRef.name)));
  return names;
}

describe("deploy/ kustomizations", () => {
  const dirs = kustomizationDirs(DEPLOY);

  it("are the ones the install docs describe", () => {
    expect(dirs).toEqual(EXPECTED);
  });

  for (const dir of dirs) {
    it(`${dir}: kubectl kustomize and Flotilla's renderer build the same objects`, () => {
      const theirs = kubectlKustomize(dir);
      const ours = flotillaRender(dir);
      expect(theirs.length).toBeGreaterThan(0);
      expect(ours).toEqual(theirs);
      rendered.set(dir, ours);
    });
  }

  it("and the optional components are the ones the install docs describe", () => {
    expect(kustomizationDirs(DEPLOY, "Component")).toEqual(COMPONENTS);
  });

  // Each component on top of the overlays it is for, as an install's overlay lists them.
  const WITH_COMPONENTS: Record<string, { resources: string; components: string[] }> = {
    "nats-tls": { resources: "deploy/nats/leafnodes", components: ["deploy/nats/client-tls", "deploy/nats/cert-manager"] },
    "hub-tls": { resources: "deploy/hub", components: ["deploy/hub/nats-tls"] },
    "agent-wide-tls": { resources: "deploy/agent/cluster-wide", components: ["deploy/agent/nats-tls"] },
    "agent-tenant-tls": { resources: "deploy/agent/tenant", components: ["deploy/agent/nats-tls"] },
  };
  for (const [name, { resources, components }] of Object.entries(WITH_COMPONENTS)) {
    it(`${resources} with ${components.join(", ")}: kubectl kustomize and Flotilla's renderer build the same objects`, async () => {
      await withOverlay(resources, components, (dir) => {
        const theirs = kubectlKustomize(dir);
        const ours = flotillaRender(dir);
        expect(ours).toEqual(theirs);
        rendered.set(name, ours);
      });
    });
  }

  it("with the NATS TLS components: the hub and the agents connect by tls:// and read the CA where the ConfigMap is mounted", async () => {
    const known = { hub: await flagEnv("hub"), agent: await flagEnv("agent") };
    for (const [name, command, deployment, configMap] of [
      ["hub-tls", "hub", "flotilla-hub", "flotilla-hub-config"],
      ["agent-wide-tls", "agent", "flotilla-agent", "flotilla-agent-config"],
      ["agent-tenant-tls", "agent", "flotilla-agent", "flotilla-agent-config"],
    ] as const) {
      const config = configMapData(name, configMap);
      expect(config["NATS_URL"], name).toMatch(/^tls:\/\//);
      for (const k of ["NATS_URL", "NATS_CA"]) expect(known[command].has(k), `${name}: ${k}`).toBe(true);
      const spec = find<Workload>(name, "Deployment", deployment).spec.template.spec;
      const mount = spec.containers[0]!.volumeMounts!.find((m) => m.name === "nats-ca")!;
      const volume = spec.volumes!.find((v) => v.name === "nats-ca")!;
      expect(volume.configMap?.name).toBe("flotilla-nats-ca");
      expect(config["NATS_CA"]).toBe(`${mount.mountPath}/ca.crt`);
    }
    const sts = find<Workload>("nats-tls", "StatefulSet", "nats").spec.template.spec;
    expect(sts.volumes!.find((v) => v.name === "client-tls")?.secret?.secretName).toBe("flotilla-nats-tls");
    const cert = find<KubeObject & { spec: { secretName: string; dnsNames: string[] } }>("nats-tls", "Certificate", "flotilla-nats-tls");
    expect(cert.spec.secretName).toBe("flotilla-nats-tls");
    // The name the hub's and the agents' NATS_URL use is in the certificate.
    expect(cert.spec.dnsNames).toContain(new URL(configMapData("hub-tls", "flotilla-hub-config")["NATS_URL"]!.replace(/^tls:/, "http:")).hostname);
  });

  it("carry no secret value: no Secret with data, no literal env value for a credential", () => {
    for (const dir of dirs) {
      for (const o of objectsOf(dir)) {
        if (o.kind === "Secret") {
          const s = o as KubeObject & { data?: object; stringData?: object };
          expect(s.data ?? s.stringData, `${dir}: Secret ${o.metadata.name} carries values`).toBeUndefined();
        }
        if (o.kind === "ConfigMap") {
          for (const k of Object.keys((o as KubeObject & { data?: object }).data ?? {})) {
            expect(k, `${dir}: ConfigMap ${o.metadata.name} key ${k} looks like a credential`).not.toMatch(/PASSWORD|SECRET|TOKEN$|DATABASE_URL/);
          }
        }
      }
      for (const w of workloads(dir)) {
        for (const c of w.spec.template.spec.containers) {
          for (const e of c.env ?? []) {
            if (/PASSWORD|TOKEN|SECRET|DATABASE_URL|LEAF_URL/.test(e.name)) {
              expect(e.value, `${dir}: ${w.metadata.name}/${c.name} env ${e.name} is a literal`).toBeUndefined();
              expect(e.valueFrom?.secretKeyRef, `${dir}: ${w.metadata.name}/${c.name} env ${e.name} is not from a Secret`).toBeDefined();
            }
          }
        }
      }
    }
  });

  it("run every workload as non-root, without privilege escalation, with requests and a memory limit", () => {
    let count = 0;
    for (const dir of dirs) {
      for (const w of workloads(dir)) {
        count++;
        const what = `${dir}: ${w.kind} ${w.metadata.name}`;
        const spec = w.spec.template.spec;
        expect(spec.securityContext?.runAsNonRoot, what).toBe(true);
        expect(spec.securityContext?.runAsUser, what).toBeGreaterThan(0);
        for (const c of [...spec.containers, ...(spec.initContainers ?? [])]) {
          const sc = c.securityContext ?? {};
          expect(sc.runAsNonRoot, `${what}/${c.name}`).not.toBe(false);
          if (sc.runAsUser !== undefined) expect(sc.runAsUser, `${what}/${c.name}`).toBeGreaterThan(0);
          expect(sc.allowPrivilegeEscalation, `${what}/${c.name}`).toBe(false);
          expect(sc.privileged, `${what}/${c.name}`).not.toBe(true);
          expect(sc.readOnlyRootFilesystem, `${what}/${c.name}`).toBe(true);
          expect(Object.keys(c.resources?.requests ?? {}).sort(), `${what}/${c.name}`).toEqual(["cpu", "memory"]);
          expect(c.resources?.limits?.memory, `${what}/${c.name}`).toBeDefined();
        }
      }
    }
    expect(count).toBeGreaterThanOrEqual(7);
  });

  it("deploy/hub: two replicas with probes on /readyz and /healthz, Secrets by name, settings `flotilla hub` reads", async () => {
    const dir = "deploy/hub";
    expect(find(dir, "Namespace", "flotilla-system")).toBeDefined();
    const hub = find<Workload>(dir, "Deployment", "flotilla-hub");
    expect(hub.metadata.namespace).toBe("flotilla-system");
    expect(hub.spec.replicas).toBe(2);
    const spec = hub.spec.template.spec;
    const [c] = spec.containers;
    expect(c?.args).toEqual(["hub"]);
    expect(c?.readinessProbe?.httpGet?.path).toBe("/readyz");
    expect(c?.livenessProbe?.httpGet?.path).toBe("/healthz");
    expect([...secretRefs(spec)].sort()).toEqual(["flotilla-hub-api-tokens", "flotilla-hub-database", "flotilla-hub-nats", "flotilla-hub-repo", "flotilla-hub-signing-key"]);

    const known = await flagEnv("hub");
    // Read by the hub's API-token work (FLOTILLA_API_TOKENS_FILE) once it lands in `flotilla hub`;
    // NODE_OPTIONS is Node's own.
    const pending = new Set(["FLOTILLA_API_TOKENS_FILE", "NODE_OPTIONS"]);
    for (const name of configuredEnv(dir, c!)) expect(known.has(name) || pending.has(name), `flotilla hub does not read ${name}`).toBe(true);
    // The files named by the settings are where the Secrets are mounted.
    const config = configMapData(dir, "flotilla-hub-config");
    const mounted = (volume: string, key: string) => {
      const m = c!.volumeMounts!.find((v) => v.name === volume)!;
      const item = spec.volumes!.find((v) => v.name === volume)!.secret!.items!.find((i) => i.key === key)!;
      return `${m.mountPath}/${item.path}`;
    };
    expect(config["FLOTILLA_SIGNING_KEY"]).toBe(mounted("signing-key", "signing-key.pem"));
    expect(config["FLOTILLA_API_TOKENS_FILE"]).toBe(mounted("api-tokens", "tokens.json"));
    expect(config["FLOTILLA_LISTEN"]).toMatch(/^0\.0\.0\.0:8080$/);
  });

  it("deploy/agent: one replica; cluster-wide with a ClusterRole, tenant with a Role in its namespace only", async () => {
    const known = await flagEnv("agent");
    for (const dir of ["deploy/agent/cluster-wide", "deploy/agent/tenant"]) {
      const agent = find<Workload>(dir, "Deployment", "flotilla-agent");
      expect(agent.spec.replicas).toBe(1);
      const spec = agent.spec.template.spec;
      expect(spec.serviceAccountName).toBe("flotilla-agent");
      expect(spec.containers[0]?.args).toEqual(["agent"]);
      expect([...secretRefs(spec)]).toEqual(["flotilla-agent-nats"]);
      const env = configuredEnv(dir, spec.containers[0]!);
      for (const name of env) expect(known.has(name) || name === "NODE_OPTIONS", `${dir}: flotilla agent does not read ${name}`).toBe(true);
      // The two flags `flotilla agent` requires.
      expect(env).toEqual(expect.arrayContaining(["FLOTILLA_CLUSTER", "FLOTILLA_HUB_PUBLIC_KEY"]));
    }
    const wide = objectsOf("deploy/agent/cluster-wide");
    expect(wide.filter((o) => o.kind === "Role" || o.kind === "RoleBinding")).toEqual([]);
    const binding = find<KubeObject & { subjects: { kind: string; name: string; namespace: string }[]; roleRef: { kind: string; name: string } }>("deploy/agent/cluster-wide", "ClusterRoleBinding", "flotilla-agent");
    expect(binding.roleRef).toMatchObject({ kind: "ClusterRole", name: "flotilla-agent" });
    expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: "flotilla-agent", namespace: "flotilla-system" }]);

    const tenant = objectsOf("deploy/agent/tenant");
    expect(tenant.filter((o) => o.kind === "ClusterRole" || o.kind === "ClusterRoleBinding")).toEqual([]);
    const config = configMapData("deploy/agent/tenant", "flotilla-agent-config");
    const home = config["FLOTILLA_NAMESPACES"]!.split(",")[0];
    for (const o of tenant) {
      if (o.kind === "Namespace") expect(o.metadata.name).toBe(home);
      else expect(o.metadata.namespace, `${o.kind} ${o.metadata.name}`).toBe(home);
    }
    const rb = find<KubeObject & { subjects: { kind: string; name: string; namespace: string }[] }>("deploy/agent/tenant", "RoleBinding", "flotilla-agent");
    expect(rb.subjects).toEqual([{ kind: "ServiceAccount", name: "flotilla-agent", namespace: home }]);
  });

  describe("with the files `flotilla nats-config` writes", () => {
    let dir: string;
    beforeAll(async () => {
      dir = await mkdtemp(join(tmpdir(), "flotilla-deploy-nats-"));
      const r = await flotilla(["nats-config", "--out", join(dir, "auth"), "--cluster", "team-a", "--cluster", "prod-eu-1"]);
      expect(r.status, r.stderr).toBe(0);
    });
    afterAll(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it("the Secrets loaded as env files hold settings the hub and the agent read", async () => {
      const hubKeys = envFileKeys(await readFile(join(dir, "auth", "hub.env"), "utf8"));
      const agentKeys = envFileKeys(await readFile(join(dir, "auth", "agent-team-a.env"), "utf8"));
      expect(hubKeys).toContain("NATS_PASSWORD");
      expect(agentKeys).toContain("FLOTILLA_NATS_INBOX_PREFIX");
      const hub = await flagEnv("hub");
      const agent = await flagEnv("agent");
      for (const k of hubKeys) expect(hub.has(k), `hub.env: ${k}`).toBe(true);
      for (const k of agentKeys) expect(agent.has(k), `agent env file: ${k}`).toBe(true);
    });

    /** Writes a ConfigMap's files into `<dir>/<name>/config` and checks them with `nats-server -t`. */
    async function natsServerAccepts(kdir: string, configMap: string, env: Record<string, string>, paths: Record<string, string> = {}): Promise<void> {
      const out = join(dir, kdir.replaceAll("/", "_"), "config");
      await mkdir(out, { recursive: true });
      for (const [file, text] of Object.entries(configMapData(kdir, configMap))) {
        await writeFile(join(out, file), Object.entries(paths).reduce((t, [from, to]) => t.replaceAll(from, to), text));
      }
      // Mounted as in the StatefulSet: the generated file at ../auth/nats-server.conf.
      await mkdir(join(out, "..", "auth"), { recursive: true });
      await writeFile(join(out, "..", "auth", "nats-server.conf"), await readFile(join(dir, "auth", "nats-server.conf")));
      const run = spawnSync("nats-server", ["-t", "-c", join(out, "nats.conf")], { encoding: "utf8", env: { ...process.env, ...env }, timeout: 20_000 });
      expect(run.error).toBeUndefined();
      expect(`${run.stdout}${run.stderr}`, kdir).toMatch(/is valid/);
      expect(run.status, `${kdir}: ${run.stderr}`).toBe(0);
    }

    it("the NATS configurations parse with nats-server around the generated users", async () => {
      await natsServerAccepts("deploy/nats/base", "nats-config", { POD_NAME: "nats-0" });
      // The leafnodes TLS Secret's files: a throwaway self-signed pair where the volume is mounted.
      const tls = join(dir, "leafnodes-tls");
      await mkdir(tls);
      const openssl = spawnSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1", "-subj", "/CN=nats", "-keyout", join(tls, "tls.key"), "-out", join(tls, "tls.crt")], { encoding: "utf8" });
      expect(openssl.status, openssl.stderr).toBe(0);
      await natsServerAccepts("deploy/nats/leafnodes", "nats-config", { POD_NAME: "nats-0" }, { "/etc/nats/leafnodes-tls": tls });
      // With TLS on the client port (deploy/nats/client-tls), the same pair where that Secret is mounted.
      await natsServerAccepts("nats-tls", "nats-config", { POD_NAME: "nats-0" }, { "/etc/nats/leafnodes-tls": tls, "/etc/nats/client-tls": tls });
      await natsServerAccepts("deploy/nats/leaf-remote", "nats-leaf-config", { POD_NAME: "nats-leaf-0", FLOTILLA_LEAF_URL: "tls://agent-team-a:pw@nats.example.com:7422" });
      // The three routes name the StatefulSet's pods through its headless Service.
      const sts = find<Workload & { spec: { serviceName: string } }>("deploy/nats/base", "StatefulSet", "nats");
      expect(sts.spec.replicas).toBe(3);
      const conf = configMapData("deploy/nats/base", "nats-config")["nats.conf"]!;
      for (const i of [0, 1, 2]) expect(conf).toContain(`nats://nats-${i}.${sts.spec.serviceName}.flotilla-system.svc.cluster.local:6222`);
      expect([...secretRefs(sts.spec.template.spec)]).toEqual(["flotilla-nats-auth"]);
    });
  });
});

describe("deploy/docker/Dockerfile", () => {
  const file = join(DEPLOY, "docker", "Dockerfile");

  it("is multi-stage, builds hub and agent targets, and runs them as a non-root user", () => {
    expect(existsSync(file)).toBe(true);
    expect(existsSync(join(DEPLOY, "docker", "Dockerfile.dockerignore"))).toBe(true);
    const lines = readFileSync(file, "utf8").split("\n").map((l) => l.trim()).filter((l) => l && !l.startsWith("#"));
    const stages: { name: string; from: string; user?: string }[] = [];
    for (const l of lines) {
      const from = /^FROM\s+(\S+)(?:\s+AS\s+(\S+))?/i.exec(l);
      if (from) {
        const parent = stages.find((s) => s.name === from[1]);
        stages.push({ name: from[2] ?? "", from: from[1]!, ...(parent?.user ? { user: parent.user } : {}) });
      }
      const user = /^USER\s+(\S+)/i.exec(l);
      if (user && stages.length) stages[stages.length - 1]!.user = user[1]!;
    }
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const target of ["hub", "agent"]) {
      const s = stages.find((x) => x.name === target);
      expect(s, `no target ${target}`).toBeDefined();
      // Numeric, so the kubelet can enforce runAsNonRoot; not root (0).
      expect(s!.user, `target ${target}`).toMatch(/^[1-9][0-9]*(:[1-9][0-9]*)?$/);
    }
    // Starts the built CLI directly: the same dist/main.js the package's bin launcher runs once
    // built (the launcher's fallback to the TypeScript sources has no place in an image).
    const bin = (JSON.parse(readFileSync(join(ROOT, "services/cli/package.json"), "utf8")) as { bin: Record<string, string> }).bin["flotilla"]!;
    expect(readFileSync(join(ROOT, "services/cli", bin), "utf8")).toContain('"dist", "main.js"');
    expect(lines.some((l) => l.startsWith("ENTRYPOINT") && l.includes("/app/services/cli/dist/main.js"))).toBe(true);
    // The images the manifests run are the two targets.
    expect(readFileSync(join(DEPLOY, "hub", "kustomization.yaml"), "utf8")).toMatch(/newName: \S+\/flotilla-hub/);
    expect(readFileSync(join(DEPLOY, "agent", "base", "kustomization.yaml"), "utf8")).toMatch(/newName: \S+\/flotilla-agent/);
  });
});
