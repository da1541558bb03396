// Drives a Reconciler on the real control plane with the in-memory source and reporter.
import { randomBytes } from "node:crypto";
import type { KubeConfig } from "@kubernetes/client-node";
import { KubeClient, ResourceManager } from "@flotilla/kube";
import { Reconciler, type AgentLogger, type ReconcilerOptions } from "../../src/reconciler.js";
import { MemoryDesiredState } from "./memory-desired-state.js";
import { MemoryReporter } from "./memory-reporter.js";

export interface LogLine {
  level: "info" | "warn" | "error";
  msg: string;
  obj: object;
}

export function recordingLogger(lines: LogLine[]): AgentLogger {
  return {
    info: (obj, msg) => lines.push({ level: "info", msg, obj }),
    warn: (obj, msg) => lines.push({ level: "warn", msg, obj }),
    error: (obj, msg) => lines.push({ level: "error", msg, obj }),
  };
}

export interface Harness {
  cluster: string;
  client: KubeClient;
  manager: ResourceManager;
  source: MemoryDesiredState;
  reporter: MemoryReporter;
  reconciler: Reconciler;
  logs: LogLine[];
  stop(): Promise<void>;
}

export interface HarnessOptions {
  kubeConfig: KubeConfig;
  /** Where inventories live (a fresh namespace per test keeps tests apart on the shared plane). */
  inventoryNamespace: string;
  cluster?: string;
  namespaces?: string[];
  /** The client the reconciler uses (default: a new KubeClient), e.g. one that counts requests. */
  client?: KubeClient;
  tuning?: Partial<Pick<ReconcilerOptions, "fightGuard" | "statusDebounceMs" | "resyncIntervalMs" | "watch" | "breakGlass" | "retry">>;
}

export async function startReconciler(opts: HarnessOptions): Promise<Harness> {
  const cluster = opts.cluster ?? `c-${randomBytes(3).toString("hex")}`;
  const client = opts.client ?? new KubeClient(opts.kubeConfig);
  const manager = new ResourceManager(client, { inventoryNamespace: opts.inventoryNamespace });
  const source = new MemoryDesiredState(cluster);
  const reporter = new MemoryReporter();
  const logs: LogLine[] = [];
  const reconciler = new Reconciler({
    cluster,
    source,
    reporter,
    client,
    manager,
    ...(opts.namespaces ? { namespaces: opts.namespaces } : {}),
    heartbeatIntervalMs: 60_000,
    statusDebounceMs: 50,
    logger: recordingLogger(logs),
    ...opts.tuning,
  });
  await reconciler.start();
  return {
    cluster,
    client,
    manager,
    source,
    reporter,
    reconciler,
    logs,
    async stop() {
      await reconciler.stop();
      client.close();
    },
  };
}
