// Waiting on conditions by polling the API server (cheap at these intervals; a watch would add a
// connection per wait).
import type { KubeObject } from "@flotilla/model";
import type { KubeClient } from "./client.js";
import { isObject } from "./json.js";
import type { ObjectTarget } from "./target.js";

const POLL_MS = 100;

const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns true, the timeout passes or `signal` aborts; returns the last
 * answer. */
export async function pollUntil(check: () => Promise<boolean>, timeoutMs: number, signal?: AbortSignal, intervalMs = POLL_MS): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline || signal?.aborted) return false;
    await delay(intervalMs);
  }
}

export interface WaitForReadyOptions {
  timeoutMs: number;
  /** Aborting stops the wait early (e.g. a new revision arrived): the result says `aborted`. */
  signal?: AbortSignal;
  intervalMs?: number;
}

export interface WaitForReadyResult {
  /** Every target passed `isReady`. */
  ready: boolean;
  aborted: boolean;
  /** The live object of each target at the last poll (`undefined` when absent). */
  last: Map<ObjectTarget, KubeObject | undefined>;
  /** Targets not ready at the end. */
  pending: ObjectTarget[];
}

/**
 * Polls the targets until `isReady` holds for every one (typically
 * `(o) => computeHealth(o).health === "Healthy"` from @flotilla/health), the timeout passes, or
 * the signal aborts. Ready targets are not polled again.
 */
export async function waitForReady(
  client: KubeClient,
  targets: readonly ObjectTarget[],
  isReady: (live: KubeObject | undefined) => boolean,
  opts: WaitForReadyOptions,
): Promise<WaitForReadyResult> {
  const last = new Map<ObjectTarget, KubeObject | undefined>();
  let pending = [...targets];
  const ready = await pollUntil(
    async () => {
      const still: ObjectTarget[] = [];
      for (const t of pending) {
        const r = await client.get(t);
        const live = r.ok ? r.value : undefined;
        last.set(t, live);
        if (!r.ok || !isReady(live)) still.push(t);
      }
      pending = still;
      return pending.length === 0;
    },
    opts.timeoutMs,
    opts.signal,
    opts.intervalMs ?? 500,
  );
  return { ready, aborted: !ready && (opts.signal?.aborted ?? false), last, pending };
}

export function isEstablished(crd: KubeObject | undefined): boolean {
  const status = crd?.["status"];
  const conditions = isObject(status) && Array.isArray(status["conditions"]) ? status["conditions"] : [];
  return conditions.some((c) => isObject(c) && c["type"] === "Established" && c["status"] === "True");
}

/** Waits until a CustomResourceDefinition is Established. */
export function waitForEstablished(client: KubeClient, name: string, timeoutMs: number): Promise<boolean> {
  const target = { apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition", name };
  return pollUntil(async () => {
    const r = await client.get(target);
    return r.ok && isEstablished(r.value);
  }, timeoutMs);
}

/** Waits until every target is gone; returns the ones still present at the timeout. */
export async function waitForDeleted(client: KubeClient, targets: readonly ObjectTarget[], timeoutMs: number): Promise<ObjectTarget[]> {
  let remaining = [...targets];
  await pollUntil(async () => {
    const still: ObjectTarget[] = [];
    for (const t of remaining) {
      const r = await client.get(t);
      if (!r.ok || r.value !== undefined) still.push(t);
    }
    remaining = still;
    return remaining.length === 0;
  }, timeoutMs);
  return remaining;
}
