// @flotilla/overlays: a Kustomize-compatible overlay engine. Files in (a FileView of one commit),
// objects out. No I/O besides the FileView.
export type { FileView } from "./file-view.js";
export { fsFileView, memoryFileView } from "./file-view.js";
export type { RenderOptions, RenderResult } from "./render.js";
export { renderKustomization } from "./render.js";
export { toYamlStream } from "./yaml-io.js";
export { OverlayError } from "./errors.js";
