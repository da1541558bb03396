// @flotilla/envrepo: the env repo (isomorphic-git), its fleet file, and the render seam.
export { fileViewOf, normalizeRepoPath, type FileView } from "./file-view.js";
export type { CommitView } from "./commit-view.js";
export { openEnvRepo, type EnvRepo, type OpenEnvRepoOptions, type CommitInfo } from "./env-repo.js";
export { parseFleet, readFleet, readFleetBytes, DNS_LABEL, type FleetResult } from "./fleet-file.js";
export { effectivePolicy, appsForCluster, selects, DEFAULT_POLICY } from "./fleet-policy.js";
export { imagesOf } from "./environment-checks.js";
export { parseManifestFile, readPlainManifests, type ManifestResult, type ObjectOrigin } from "./manifests.js";
export { hasKustomization, KUSTOMIZATION_FILES, type KustomizeRenderer } from "./kustomize-seam.js";
export {
  renderApp,
  renderAppSource,
  renderCluster,
  assembleCluster,
  appSource,
  layerCandidates,
  CLUSTER_SCOPED_KINDS,
  type AppRender,
  type AppSource,
  type ClusterRender,
  type RenderOptions,
} from "./render.js";
export {
  createIncrementalRenderer,
  renderFleet,
  type FleetRender,
  type IncrementalFleetRender,
  type IncrementalRenderer,
  type RenderCounts,
} from "./incremental-render.js";
export { revertCommit, DEFAULT_AUTHOR, type GitPerson, type RevertOptions } from "./revert.js";
export { openEnvRepoWriter, type BeforePush, type EnvRepoWriter, type EnvRepoWriterOptions } from "./writer.js";
export { applyChangesToTree, type FileChanges } from "./tree-edit.js";
export { parseDuration, formatDuration } from "./duration.js";
export { defaultPromotionPolicy, DEFAULT_ROLLOUT } from "./fleet-promotion.js";
export {
  releaseLockFor,
  lockPathsFor,
  lockFileText,
  parseLockBytes,
  pinImages,
  pinnedReference,
  imageName,
  RELEASE_LOCK_API_VERSION,
  type LockRead,
} from "./release-locks.js";
