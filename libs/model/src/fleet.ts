// The fleet file's model: environments, clusters, apps and their policies.
import type { PromotionPolicy } from "./promotion.js";
import type { DriftPolicy } from "./vocabulary.js";

export const FLEET_FILE = "flotilla.yaml";
export const FLEET_API_VERSION = "flotilla.dev/v1alpha1";

/** What to do with plaintext `Secret` objects found in Git. */
export type SecretPolicy = "allow" | "warn" | "refuse";

export interface Policies {
  /** Drift policy: enforce (revert) | warn | observe. */
  drift?: DriftPolicy;
  /** Delete objects that left the bundle. */
  prune?: boolean;
  /** JSON-pointer paths, e.g. `/spec/replicas`, neither reported nor reverted. */
  ignore?: IgnoreRule[];
}

export interface IgnoreRule {
  /** Optional object match; absent fields match anything. */
  kind?: string;
  group?: string;
  name?: string;
  namespace?: string;
  /** JSON pointers (RFC 6901). */
  paths: string[];
}

export interface Environment extends Policies {
  name: string;
  /** Refuse images referenced by a mutable tag instead of a digest. */
  requireDigests?: boolean;
  secrets?: SecretPolicy;
  /** How releases reach this environment (absent: by hand, one wave, no gates). */
  promotion?: PromotionPolicy;
}

export interface Cluster {
  name: string;
  environment: string;
  labels: Record<string, string>;
  /** Tenant cluster: the agent is namespace-scoped to these namespaces. */
  namespaces?: string[];
}

export interface App extends Policies {
  name: string;
  /** Repo path of the app's tree (`base/`, `envs/<env>/`, `clusters/<cluster>/`, or plain manifests). */
  path: string;
  /** Clusters this app is deployed to; absent = every cluster. */
  selector?: { matchLabels?: Record<string, string>; environments?: string[]; clusters?: string[] };
}

export interface Fleet {
  apiVersion: string;
  environments: Environment[];
  clusters: Cluster[];
  apps: App[];
}

export interface EffectivePolicy {
  drift: DriftPolicy;
  prune: boolean;
  ignore: IgnoreRule[];
}
