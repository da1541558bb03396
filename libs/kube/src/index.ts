// @flotilla/kube: Kubernetes I/O for the agent (raw-JSON client, discovery, watch, apply engine,
// prune by inventory) and the pure pieces it is built from (diff, managed fields, ordering).
export { KubeClient, PatchType } from "./client.js";
export type { ApplyCallOptions, DeleteOptions, ListOptions, ListResult, PatchOptions } from "./client.js";
export { Discovery, DiscoveryError, type ResourceInfo } from "./discovery.js";
export type { ApiFailure, KubeResult } from "./result.js";
export { targetOf, toTarget, refOfTarget, type ObjectAddress, type ObjectTarget } from "./target.js";
export type { WatchEvent, WatchEventType, WatchEventHandler, WatchHandle, WatchOptions } from "./watch.js";

export { ResourceManager, type ResourceManagerOptions } from "./resource-manager.js";
export { defaultApplyOptions, defaultPruneOptions, type ApplyOptions, type Owner, type PruneOptions } from "./manager-options.js";
export { hasFailures, countActions, type ChangeSet, type ChangeSetEntry } from "./changeset.js";
export type { PruneResult } from "./manager-prune.js";
export type { WaitForReadyOptions, WaitForReadyResult } from "./manager-wait.js";
export type { KubeHttpOptions } from "./http.js";
export {
  loadKubeCredentials, kubeConnectionFromKubeconfig, kubeConnectionFromKubeconfigText, inClusterKubeConnection, inCluster,
  isKubeConfig, KubeconfigError, KubeconfigNeedsPluginError, SERVICE_ACCOUNT_DIR,
  type KubeConnection, type KubeCredentials, type KubeconfigReadOptions, type InClusterOptions, type LoadKubeCredentialsOptions,
} from "./kube-connection.js";
export {
  INVENTORY_DATA_KEY, inventoryName, inventoryFromChangeSet, entryOf, encodeInventory, decodeInventory,
  readInventory, writeInventory, type InventoryEntry,
} from "./inventory.js";

export { diffLive, type DiffOptions } from "./diff.js";
export { detectDrift, type Drift, type DriftOptions } from "./drift.js";
export { driftActor, managedFieldsOf, ownsPath, type DriftActor, type ManagedFieldsEntry } from "./managed-fields.js";
export { filterIgnored, ignoredPathsFor, isIgnored, ruleMatches } from "./ignore.js";
export { MASK, isSecret, maskDriftPaths, maskObject, maskSecretText } from "./mask.js";
export { compareApplyOrder, sortForApply, sortForPrune, stageOf, Stage } from "./ordering.js";
export { sameLiveState, changedPaths, comparable } from "./compare.js";
export { jsonEqual } from "./json.js";
export { takeOverPatch, type JsonPatchOp } from "./take-over.js";
export { prepareForApply } from "./prepare.js";
export { Annotation, Label, DEFAULT_FIELD_MANAGER, TAKE_OVER_MANAGERS } from "./conventions.js";
