// Waiting on conditions by polling the API server (cheap at these intervals; a watch would add a
// connection per wait).
import type { KubeObject } from "@flotilla/model";
import type { KubeClient } from "./client.js";
import { isObject } from "./json.js";
import type { ObjectTarget } from "./target.js";

const POLL_MS = 100;

const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `check` until it returns true or the timeout passes; returns the last answer. */
export async function pollUntil(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await delay(POLL_MS);
  }
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
