// The hub process of bench/fleet.mts: the real hub (startHub on Postgres and NATS) alone in its
// process, so its RSS is the hub's and not the bench's (which creates the namespaces, identities
// and commits, and keeps what it saw on NATS). The bench asks for a refresh (the Git webhook's
// call) over IPC and reads cluster_status itself.
//
//   node --conditions=@flotilla/source --import tsx bench/lib/fleet-hub.mts <config.json>
import { readFile } from "node:fs/promises";
import { writeHeapSnapshot } from "node:v8";
import { mintApiToken, Role, startHub, type Hub } from "@flotilla/hub";
import { signingKeyFromPem } from "@flotilla/wire";
import { keepYoungGenerationSmall } from "flotilla/young-generation";

export interface FleetHubConfig {
  repoDir: string;
  databaseUrl: string;
  natsUrl: string;
  natsPrefix: string;
  signingKeyPem: string;
}

/** memory: process.memoryUsage(), after a full GC when the process runs with --expose-gc and `gc` is set, and a heap snapshot written to `snapshot` if given (bench/hub-memory.mts). */
export type ToHub = { refresh: true } | { stop: true } | { memory: { gc?: boolean; snapshot?: string } };
export type FromHub =
  | { started: true; ms: number; desiredBucket: string }
  | { refreshed: { revision: string; published: number; failed: boolean; errors?: unknown } }
  | { memory: NodeJS.MemoryUsage & { snapshot?: string } }
  | { failed: string };

// As `flotilla hub` runs (its flags win when --hub-node-options sizes the young generation).
keepYoungGenerationSmall();
const config = JSON.parse(await readFile(process.argv[2]!, "utf8")) as FleetHubConfig;
const send = (m: FromHub) => process.send?.(m);
let hub: Hub | undefined;
const t0 = performance.now();
try {
  hub = await startHub({
    auth: { tokens: [mintApiToken({ subject: "bench", roles: [Role.Admin] }).entry] },
    repo: { path: config.repoDir },
    promotionWriter: false,
    databaseUrl: config.databaseUrl,
    natsUrl: config.natsUrl,
    natsPrefix: config.natsPrefix,
    signingKey: signingKeyFromPem(config.signingKeyPem),
    port: 0,
    pollIntervalMs: 3_600_000,
    logger: false,
    // As `flotilla hub` runs it: metrics for GET /metrics, traces only with an OTLP endpoint.
    telemetry: true,
  });
  send({ started: true, ms: performance.now() - t0, desiredBucket: hub.names.desiredBucket });
} catch (err) {
  send({ failed: (err as Error).stack ?? String(err) });
}

const stop = async () => {
  await hub?.stop().catch(() => undefined);
  process.exit(0);
};
process.on("message", (m: ToHub) => {
  if ("stop" in m) return void stop();
  if ("memory" in m) {
    const g = (globalThis as { gc?: () => void }).gc;
    if (m.memory.gc && g) g();
    const usage = process.memoryUsage();
    const snapshot = m.memory.snapshot ? writeHeapSnapshot(m.memory.snapshot) : undefined;
    return void send({ memory: { ...usage, ...(snapshot ? { snapshot } : {}) } });
  }
  void hub?.resolver.refresh().then(
    (o) => send({ refreshed: { revision: o.revision, published: o.published, failed: o.failed, ...(o.errors ? { errors: o.errors } : {}) } }),
    (err: unknown) => send({ failed: (err as Error).stack ?? String(err) }),
  );
});
process.on("SIGTERM", () => void stop());
process.on("disconnect", () => void stop());
