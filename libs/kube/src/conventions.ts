// Annotations and labels Flotilla reads and writes on live objects.

export const Annotation = {
  /** `disabled`: the object is skipped entirely (neither applied nor pruned). */
  Reconcile: "flotilla.dev/reconcile",
  /** `"true"`: create the object if it is absent, never update it afterwards. */
  CreateOnly: "flotilla.dev/create-only",
  /** `disabled`: never prune the object, even when it leaves the bundle. */
  Prune: "flotilla.dev/prune",
  /** kubectl client-side apply's copy of the last manifest; dropped when taking ownership. */
  LastApplied: "kubectl.kubernetes.io/last-applied-configuration",
} as const;

export const Label = {
  /** App that owns the object; prune never deletes an object naming another app. */
  App: "flotilla.dev/app",
  /** Cluster whose agent applied the object. */
  Cluster: "flotilla.dev/cluster",
} as const;

export const DEFAULT_FIELD_MANAGER = "flotilla";

/** Field managers whose fields we take over on apply (kubectl client-side apply and kubectl's
 * server-side apply), so that afterwards only our manager owns the fields we declare. */
export const TAKE_OVER_MANAGERS: readonly string[] = ["kubectl-client-side-apply", "kubectl", "before-first-apply"];

export const isReconcileDisabled = (annotations: Record<string, string> | undefined): boolean =>
  annotations?.[Annotation.Reconcile] === "disabled";
export const isCreateOnly = (annotations: Record<string, string> | undefined): boolean =>
  annotations?.[Annotation.CreateOnly] === "true";
export const isPruneDisabled = (annotations: Record<string, string> | undefined): boolean =>
  annotations?.[Annotation.Prune] === "disabled";
