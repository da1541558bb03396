// Test helpers: render an in-memory tree and fail loudly with the engine's error.
import type { KubeObject } from "@flotilla/model";
import { memoryFileView, renderKustomization, type OverlayError, type RenderOptions } from "../../src/index.js";

export function render(files: Record<string, string>, dir = "", options?: RenderOptions): KubeObject[] {
  const r = renderKustomization(memoryFileView(files), dir, options);
  if (!r.ok) throw r.error;
  return r.objects;
}

export function renderError(files: Record<string, string>, dir = "", options?: RenderOptions): OverlayError {
  const r = renderKustomization(memoryFileView(files), dir, options);
  if (r.ok) throw new Error(`expected the render to fail, got ${r.objects.length} objects`);
  return r.error;
}

export function names(objects: KubeObject[]): string[] {
  return objects.map((o) => `${o.kind}/${o.metadata.namespace ? `${o.metadata.namespace}/` : ""}${o.metadata.name}`);
}

export function find(objects: KubeObject[], kind: string, name: string): KubeObject {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`no ${kind} ${name} in ${names(objects).join(", ")}`);
  return o;
}

export const deployment = (name: string, extra = "") => `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
spec:
  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      containers:
      - name: main
        image: nginx:1.25
${extra}`;

/** A loosely typed view of rendered data, for deep assertions in tests. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Loose = any;
export const loose = (v: unknown): Loose => v;
