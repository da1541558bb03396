// A real Kubernetes control plane on loopback for tests and the demo: etcd, kube-apiserver
// (TLS, RBAC), kube-controller-manager, kube-scheduler and kwok playing the kubelet of a few fake
// Nodes. Each plane has its own PKI, ports and temp dir, so several run side by side.
import { randomBytes } from "node:crypto";
import { copyFile, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, dirname, join } from "node:path";
import type { KubeConfig } from "@kubernetes/client-node";
import {
  apiserverArgs,
  controllerManagerArgs,
  etcdArgs,
  kwokArgs,
  schedulerArgs,
  type PlaneLayout,
} from "./component-flags.js";
import { describeExit, logTail, signalGroup, startComponent, type Component } from "./component-process.js";
import { createFakeNodes, nodesReady } from "./fake-nodes.js";
import { freePorts } from "./free-ports.js";
import { ensureKubeBinaries } from "./kube-binaries.js";
import { writeKubeconfig } from "./kubeconfig-file.js";
import { kubeRequest } from "./kube-request.js";
import { createNamespace, dnsLabel, serviceAccountExists } from "./namespaces.js";
import {
  mintNamespacedIdentity,
  type NamespacedIdentity,
  type NamespacedIdentityOptions,
} from "./namespaced-identity.js";
import { createPki } from "./pki.js";
import {
  forgetPlane,
  reapOrphanedPlanes,
  recordComponent,
  registerPlane,
  stopWatchdog,
  watchdogPid,
} from "./plane-reaper.js";
import { waitFor } from "./wait-for.js";

export interface ControlPlaneOptions {
  /**
   * Run kube-controller-manager, kube-scheduler and kwok with fake Nodes (default true). Without
   * them the plane is etcd + kube-apiserver only: objects are stored and validated, but nothing
   * reconciles them (no default ServiceAccounts, Deployments never roll out, namespaces never
   * finish terminating).
   */
  controllers?: boolean;
  /** Fake Nodes kwok keeps Ready (default 1; only with controllers). */
  nodes?: number;
  /** Names the kubeconfig cluster/context and the temp dir (default "flotilla-test"). */
  name?: string;
  /** Directory holding the binaries (default: ensureKubeBinaries()). */
  binDir?: string;
  /** Deadline for the apiserver to become ready (default 120 s; two busy cores are slow). */
  readyTimeoutMs?: number;
  /** How long stop() lets components shut down after SIGTERM before SIGKILL (default 5 s). */
  stopGraceMs?: number;
}

export type ComponentName = "etcd" | "kube-apiserver" | "kube-controller-manager" | "kube-scheduler" | "kwok";

export interface ControlPlane {
  name: string;
  /** `https://127.0.0.1:<port>` */
  server: string;
  /** PEM of the plane's CA (it signed the apiserver's serving certificate). */
  caPem: string;
  /** Admin kubeconfig (client certificate, group system:masters). */
  kubeconfigPath: string;
  kubeConfig: KubeConfig;
  /** A static bearer token of the same admin power (for curl, or clients configured with a token). */
  adminToken: string;
  /** The plane's temp dir (PKI, kubeconfigs, etcd data, logs); removed by stop(). */
  dir: string;
  /** Names of the fake Nodes. */
  nodes: string[];
  /** Milliseconds from the start of startControlPlane to each milestone (for bench/). */
  timings: StartTimings;
  /** The log file of a component (stdout and stderr). */
  logPath(component: ComponentName): string;
  /** Pids of every process of the plane (components and the watchdog). */
  pids(): number[];
  mintNamespacedIdentity(opts: NamespacedIdentityOptions): Promise<NamespacedIdentity>;
  /** Creates a namespace named `<prefix>-<random>` and returns its name. */
  createNamespace(prefix: string): Promise<string>;
  /**
   * Stops kube-apiserver (SIGTERM, SIGKILL after the grace period) and starts it again on the same
   * etcd, port and PKI; resolves once /readyz answers 200. For fault tests: clients' watches break
   * and must resume. Not for the shared plane (other tests use it): start a plane of your own.
   */
  restartApiserver(): Promise<{ downMs: number }>;
  /** SIGTERM, then SIGKILL after the grace period, every process; waits for them; removes `dir`. */
  stop(): Promise<void>;
}

export interface StartTimings {
  /** PKI and kubeconfigs written. */
  pki: number;
  /** kube-apiserver answered /readyz. */
  apiserverReady: number;
  /** The default ServiceAccount exists (controllers only). */
  controllersReady?: number;
  /** Every fake Node Ready (controllers only). */
  nodesReady?: number;
  total: number;
}

export class ControlPlaneStartError extends Error {
  override readonly name = "ControlPlaneStartError";
  constructor(
    message: string,
    readonly component: string,
    readonly logTail: string,
  ) {
    super(message);
  }
  get portInUse(): boolean {
    return /address already in use/i.test(this.logTail);
  }
}

export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  reapOrphanedPlanes();
  const binDir = opts.binDir ?? (await ensureKubeBinaries());
  // Ports are free when asked for, but another process may take one before we bind it.
  for (let attempt = 1; ; attempt++) {
    try {
      return await startOnce(binDir, opts);
    } catch (err) {
      if (attempt < 3 && err instanceof ControlPlaneStartError && err.portInUse) continue;
      throw err;
    }
  }
}

async function startOnce(binDir: string, opts: ControlPlaneOptions): Promise<ControlPlane> {
  const startedAt = Date.now();
  const name = opts.name ?? "flotilla-test";
  const controllers = opts.controllers ?? true;
  const nodeCount = controllers ? (opts.nodes ?? 1) : 0;
  const readyTimeoutMs = opts.readyTimeoutMs ?? 120_000;
  const dir = await mkdtemp(join(tmpdir(), `flotilla-plane-${dnsLabel(name).slice(0, 30)}-`));
  const id = basename(dir);
  registerPlane(id, dir);
  const watchdog = watchdogPid(id);
  const components: Component[] = [];
  const logPath = (component: ComponentName) => join(dir, `${component}.log`);
  const elapsed = () => Date.now() - startedAt;
  const timings: StartTimings = { pki: 0, apiserverReady: 0, total: 0 };

  const launch = (component: ComponentName, args: string[]): Component => {
    const c = startComponent({ name: component, command: join(binDir, component), args, logPath: logPath(component), cwd: dir });
    components.push(c);
    recordComponent(id, c.pid);
    return c;
  };
  // Waits for a step; fails fast, with the log of whoever is to blame, when a component dies.
  const step = async (what: string, blame: Component, probe: () => Promise<boolean>, timeoutMs: number) => {
    let dead: Component | undefined;
    try {
      await waitFor(
        async () => {
          dead = components.find((c) => c.exit);
          return dead !== undefined || (await probe());
        },
        { what, timeoutMs, intervalMs: 100 },
      );
    } catch (err) {
      throw await startError(name, blame, (err as Error).message);
    }
    if (dead?.exit) throw await startError(name, dead, `${dead.name} ${describeExit(dead.exit)} while waiting for ${what}`);
  };

  try {
    // 1. PKI: CA, serving certificate, one client certificate per identity, ServiceAccount keys.
    const pki = await createPki(join(dir, "pki"), dnsLabel(name), [
      { id: "admin", user: "flotilla-admin", groups: ["system:masters"] },
      { id: "controller-manager", user: "system:kube-controller-manager", groups: [] },
      { id: "scheduler", user: "system:kube-scheduler", groups: [] },
      // kwok plays every kubelet; there is no per-node identity to scope it to.
      { id: "kwok", user: "system:kwok", groups: ["system:masters"] },
    ]);
    const [etcdClientPort, etcdPeerPort, apiPort] = (await freePorts(3)) as [number, number, number];
    const server = `https://127.0.0.1:${apiPort}`;
    const layout: PlaneLayout = {
      dir,
      etcdDataDir: join(dir, "etcd"),
      etcdClientPort,
      etcdPeerPort,
      apiPort,
      caPath: pki.caPath,
      caKeyPath: pki.caKeyPath,
      servingCertPath: pki.serving.certPath,
      servingKeyPath: pki.serving.keyPath,
      saKeyPath: pki.saKeyPath,
      saPubPath: pki.saPubPath,
      tokensPath: join(dir, "pki", "tokens.csv"),
      controllerManagerKubeconfig: join(dir, "controller-manager.kubeconfig"),
      schedulerKubeconfig: join(dir, "scheduler.kubeconfig"),
      kwokKubeconfig: join(dir, "kwok.kubeconfig"),
      kwokConfigPath: join(dir, "kwok.yaml"),
      controllers,
    };
    const adminToken = randomBytes(24).toString("hex");
    await writeFile(layout.tokensPath, `${adminToken},flotilla-admin-token,flotilla-admin-token,"system:masters"\n`, {
      mode: 0o600,
    });
    const kubeconfigFor = (path: string, user: string, id: string) => {
      const pair = pki.clients[id]!;
      return writeKubeconfig(path, { name, user, server, caPem: pki.caPem, credentials: pair });
    };
    const kubeconfigPath = join(dir, "admin.kubeconfig");
    const admin = await kubeconfigFor(kubeconfigPath, "flotilla-admin", "admin");
    timings.pki = elapsed();

    // 2. etcd and the apiserver together: the apiserver retries etcd until it answers.
    launch("etcd", etcdArgs(layout));
    const apiserver = launch("kube-apiserver", apiserverArgs(layout));
    await step(
      "kube-apiserver /readyz",
      apiserver,
      async () => (await kubeRequest(admin, { path: "/readyz", timeoutMs: 5_000 })).status === 200,
      readyTimeoutMs,
    );
    timings.apiserverReady = elapsed();

    // 3. The reconcilers: controllers, scheduler and kwok with its fake Nodes.
    let nodes: string[] = [];
    if (controllers) {
      await kubeconfigFor(layout.controllerManagerKubeconfig, "system:kube-controller-manager", "controller-manager");
      await kubeconfigFor(layout.schedulerKubeconfig, "system:kube-scheduler", "scheduler");
      await kubeconfigFor(layout.kwokKubeconfig, "system:kwok", "kwok");
      await writeFile(layout.kwokConfigPath, "");
      const controllerManager = launch("kube-controller-manager", controllerManagerArgs(layout));
      launch("kube-scheduler", schedulerArgs(layout));
      const kwok = launch("kwok", kwokArgs(layout));
      nodes = await createFakeNodes(admin, nodeCount);
      await step(
        "the default ServiceAccount (kube-controller-manager)",
        controllerManager,
        () => serviceAccountExists(admin, "default"),
        60_000,
      );
      timings.controllersReady = elapsed();
      await step(
        `${nodes.length} fake Node(s) Ready (kwok)`,
        kwok,
        () => nodesReady(admin, nodes),
        60_000,
      );
      timings.nodesReady = elapsed();
    }

    timings.total = elapsed();
    let stopping: Promise<void> | undefined;
    let current = apiserver;
    const restartApiserver = async (): Promise<{ downMs: number }> => {
      const old = current;
      const t0 = Date.now();
      if (!old.exit) signalGroup(old.pid, "SIGTERM");
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([old.exited, new Promise((resolve) => (timer = setTimeout(resolve, opts.stopGraceMs ?? 5_000)))]);
      clearTimeout(timer);
      signalGroup(old.pid, "SIGKILL");
      await old.exited;
      components.splice(components.indexOf(old), 1);
      // Same flags: same port, etcd and certificates, so clients reconnect to what they knew.
      current = launch("kube-apiserver", apiserverArgs(layout));
      await step(
        "kube-apiserver /readyz after its restart",
        current,
        async () => (await kubeRequest(admin, { path: "/readyz", timeoutMs: 5_000 })).status === 200,
        readyTimeoutMs,
      );
      return { downMs: Date.now() - t0 };
    };
    const plane: ControlPlane = {
      name,
      server,
      caPem: pki.caPem,
      kubeconfigPath,
      kubeConfig: admin,
      adminToken,
      dir,
      nodes,
      timings,
      logPath,
      pids: () => [...components.map((c) => c.pid), ...(watchdog ? [watchdog] : [])],
      mintNamespacedIdentity: (o) =>
        mintNamespacedIdentity({ admin, planeName: name, server, caPem: pki.caPem, dir }, o),
      createNamespace: (prefix) => createNamespace(admin, prefix, { waitForDefaultServiceAccount: controllers }),
      restartApiserver,
      stop: () => (stopping ??= teardown(id, components, dir, opts.stopGraceMs ?? 5_000)),
    };
    return plane;
  } catch (err) {
    await teardown(id, components, dir, 2_000);
    throw err;
  }
}

async function teardown(id: string, components: Component[], dir: string, graceMs: number) {
  // The children and the watchdog are unref'd: without this timer a runner with nothing else to
  // do could exit halfway through (its exit hook would still kill the plane, but not tidy up).
  const keepAlive = setInterval(() => {}, 1_000);
  try {
    // Reverse start order; all at once, then wait: shutting down one by one costs seconds each.
    for (const c of [...components].reverse()) if (!c.exit) signalGroup(c.pid, "SIGTERM");
    const allExited = Promise.all(components.map((c) => c.exited));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([allExited, new Promise((resolve) => (timer = setTimeout(resolve, graceMs)))]);
    clearTimeout(timer);
    // SIGKILL the groups even of exited leaders: nothing they forked may survive them.
    for (const c of components) signalGroup(c.pid, "SIGKILL");
    await allExited;
    await stopWatchdog(id);
    await rm(dir, { recursive: true, force: true });
  } finally {
    forgetPlane(id);
    clearInterval(keepAlive);
  }
}

async function startError(plane: string, blame: Component, reason: string): Promise<ControlPlaneStartError> {
  const tail = await logTail(blame.logPath, 40);
  // The plane's dir goes away with it: keep the failing log next to it for a closer look.
  const kept = join(tmpdir(), `${basename(dirname(blame.logPath))}-${blame.name}.log`);
  await copyFile(blame.logPath, kept).catch(() => {});
  return new ControlPlaneStartError(
    `control plane "${plane}" failed to start: ${reason}\n--- last lines of ${kept} ---\n${tail}`,
    blame.name,
    tail,
  );
}
