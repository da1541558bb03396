// The seam to the overlay engine (@flotilla/overlays, written alongside this package). It is
// looked up at load time so envrepo works — plain manifests only — before the engine exports
// `renderKustomization(view, dir)`, and picks it up as soon as it does.
import { ErrorCode, FlotillaError, toErrorInfo, type ErrorInfo, type KubeObject } from "@flotilla/model";
import type { FileView } from "./file-view.js";

export type KustomizeRenderer = (view: FileView, dir: string) => unknown;

export type KustomizeResult = { ok: true; objects: KubeObject[]; readPaths: string[] } | { ok: false; errors: ErrorInfo[] };

// The specifier is a variable so type-checking this package does not depend on the overlay
// engine's build; at run time it resolves like any other import.
const OVERLAYS_PACKAGE = "@flotilla/overlays";
const overlays = (await import(OVERLAYS_PACKAGE).catch(() => ({}))) as { renderKustomization?: unknown };

/** The overlay engine's renderer, or undefined while it is not available. */
export const defaultKustomizeRenderer: KustomizeRenderer | undefined =
  typeof overlays.renderKustomization === "function" ? (overlays.renderKustomization as KustomizeRenderer) : undefined;

export const KUSTOMIZATION_FILES = ["kustomization.yaml", "kustomization.yml", "Kustomization"];

export function hasKustomization(view: FileView, dir: string): boolean {
  const names = view.listDir(dir);
  return !!names && KUSTOMIZATION_FILES.some((n) => names.includes(n) && view.readFile(`${dir}/${n}`) !== undefined);
}

/** Runs the renderer and normalises what it returns (a result object or a plain object list). */
export function runKustomize(render: KustomizeRenderer | undefined, view: FileView, dir: string): KustomizeResult {
  if (!render) {
    const err = new FlotillaError(ErrorCode.KustomizationUnsupported, `${dir}: holds a kustomization but the overlay engine is not available in this build; use plain manifests`, {
      location: { file: dir },
    });
    return { ok: false, errors: [err.toJSON()] };
  }
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
