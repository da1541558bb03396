// Typed reads of untyped object JSON. Health rules read status fields that may be absent, of the
// wrong type, or set by a controller that has not run yet: every read has a default.
import type { KubeObject } from "@flotilla/model";

export type Json = Record<string, unknown>;

export function obj(v: unknown): Json {
  return v !== null && typeof v === "object" && !Array.isArray(v) ? (v as Json) : {};
}

export function num(v: unknown, fallback = 0): number {
  return typeof v === "number" && Number.isFinite(v) ? v : fallback;
}

export function str(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

export function arr(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

export const specOf = (o: KubeObject): Json => obj(o["spec"]);
export const statusOf = (o: KubeObject): Json => obj(o["status"]);

export interface Condition {
  type: string;
  status: string;
  reason?: string;
  message?: string;
}

/** Well-formed entries of a conditions list (entries without a type are dropped). */
export function toConditions(list: unknown): Condition[] {
  return arr(list)
    .map(obj)
    .filter((c) => typeof c["type"] === "string")
    .map((c) => ({
      type: c["type"] as string,
      status: str(c["status"]) ?? "Unknown",
      ...(str(c["reason"]) !== undefined ? { reason: str(c["reason"]) } : {}),
      ...(str(c["message"]) !== undefined ? { message: str(c["message"]) } : {}),
    }));
}

export function conditionsOf(o: KubeObject): Condition[] {
  return toConditions(statusOf(o)["conditions"]);
}

export function conditionOf(o: KubeObject, type: string): Condition | undefined {
  return conditionsOf(o).find((c) => c.type === type);
}

/** `Deployment shop/api` for messages. */
export function nameOf(o: KubeObject): string {
  const ns = o.metadata.namespace;
  return `${o.kind} ${ns ? `${ns}/` : ""}${o.metadata.name}`;
}
