// The patch engine: strategic merge patches, JSON 6902 patches and patch target selection, as
// kustomize applies them. Pure functions over plain objects; no file access.

export type { KubeObject } from "./kube-object.js";
export { PatchError } from "./patch-error.js";
export { applyStrategicMergePatch, isDeletePatch, type StrategicMergeOptions } from "./strategic-merge.js";
export { applyJson6902, parsePointer } from "./json6902.js";
export { selectTargets, type PatchTarget, type OriginalId } from "./select-targets.js";
export { parseLabelSelector, type LabelSelector } from "./label-selector.js";
