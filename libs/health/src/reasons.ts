// Health reasons that @flotilla/model's Reason does not have yet. Same `as const` shape, so they
// can move into the model's vocabulary unchanged (libs/model belongs to another workstream;
// until then they are exported from here). Reasons the model already has are used from there.
export const HealthReason = {
  /** A container waits with a kubelet error other than an image pull (e.g. CreateContainerConfigError). */
  ContainerError: "ContainerError",
  /** Deployment: the controller has not yet reported the rollout complete (Progressing ≠ NewReplicaSetAvailable). */
  ReplicaSetNotAvailable: "ReplicaSetNotAvailable",
  /** Job: spec.suspend is set but the controller has not yet said Suspended=True. */
  SuspendPending: "SuspendPending",
  /** APIService: the aggregator reports the backing service unavailable. */
  NotAvailable: "NotAvailable",
  /** HorizontalPodAutoscaler: cannot read its target's scale or compute from its metrics. */
  ScalingFailed: "ScalingFailed",
  /** PodDisruptionBudget: fewer healthy pods than the budget needs. */
  InsufficientPods: "InsufficientPods",
  /** PodDisruptionBudget: the disruption controller cannot compute the budget (DisruptionAllowed=False/SyncFailed). */
  BudgetNotComputed: "BudgetNotComputed",
} as const;
export type HealthReason = (typeof HealthReason)[keyof typeof HealthReason];
