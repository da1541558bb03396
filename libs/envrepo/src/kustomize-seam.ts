// The seam to the overlay engine (@flotilla/overlays). Renderers are injectable (tests, other
// engines); results are normalised to objects + readPaths or ErrorInfo naming file and line.
import { renderKustomization } from "@flotilla/overlays";
import { ErrorCode, toErrorInfo, type ErrorInfo, type KubeObject } from "@flotilla/model";
import type { FileView } from "./file-view.js";

export type KustomizeRenderer = (view: FileView, dir: string) => unknown;

export type KustomizeResult = { ok: true; objects: KubeObject[]; readPaths: string[] } | { ok: false; errors: ErrorInfo[] };

/** The overlay engine's `renderKustomization` (kustomize build of one directory). */
export const defaultKustomizeRenderer: KustomizeRenderer = (view, dir) => renderKustomization(view, dir);

export const KUSTOMIZATION_FILES = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

export function hasKustomization(view: FileView, dir: string): boolean {
  const names = view.listDir(dir);
  return !!names && KUSTOMIZATION_FILES.some((n) => names.includes(n) && view.readFile(`${dir}/${n}`) !== undefined);
}

/** Runs the renderer and normalises what it returns (a result object or a plain object list). */
export function runKustomize(render: KustomizeRenderer, view: FileView, dir: string): KustomizeResult {
  let out: unknown;
  try {
    out = render(view, dir);
  } catch (err) {
    return { ok: false, errors: [toErrorInfo(err, ErrorCode.RenderFailed)] };
  }
  if (Array.isArray(out)) return { ok: true, objects: out as KubeObject[], readPaths: [`${dir}/`] };
  const r = out as { ok?: boolean; objects?: KubeObject[]; readPaths?: string[]; error?: unknown; errors?: unknown[] };
  if (r && r.ok !== false && Array.isArray(r.objects)) return { ok: true, objects: r.objects, readPaths: r.readPaths ?? [`${dir}/`] };
  const raw = r?.errors ?? (r?.error !== undefined ? [r.error] : [new Error(`${dir}: the overlay engine returned no objects`)]);
  return { ok: false, errors: raw.map((e) => (isErrorInfo(e) ? e : toErrorInfo(e, ErrorCode.RenderFailed))) };
}

function isErrorInfo(e: unknown): e is ErrorInfo {
  return !!e && typeof e === "object" && !(e instanceof Error) && typeof (e as ErrorInfo).code === "string" && typeof (e as ErrorInfo).message === "string";
}
