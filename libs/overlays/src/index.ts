// @flotilla/overlays: a Kustomize-compatible overlay engine (kustomize v5.5 semantics). Files in
// (a FileView of one commit), objects out; no I/O besides the FileView, no network, no clock.
export type { FileView } from "./file-view.js";
export { fsFileView, memoryFileView } from "./file-view.js";
export type { RenderOptions, RenderResult } from "./render.js";
export { renderKustomization } from "./render.js";
export { toYamlStream } from "./yaml-io.js";
export { OverlayError } from "./errors.js";
/** File names that make a directory a kustomization, in kustomize's lookup order. */
export { KUSTOMIZATION_FILE_NAMES } from "./kustomization.js";
/** Limits a render applies when RenderOptions leaves them out. */
export { DEFAULT_LIMITS } from "./loader.js";
