// Bundles and desired pointers: what the hub publishes and the only things an agent trusts.
import type { EffectivePolicy } from "./fleet.js";
import type { KubeObject } from "./objects.js";

export const BUNDLE_API_VERSION = "flotilla.dev/bundle/v1";

export interface BundleApp {
  name: string;
  policy: EffectivePolicy;
  /** Rendered objects in apply order as produced by the renderer. */
  objects: KubeObject[];
}

/** Everything one cluster should run at one revision. Serialised as canonical JSON. */
export interface Bundle {
  apiVersion: typeof BUNDLE_API_VERSION;
  cluster: string;
  revision: string;
  /** Namespaces of a tenant agent; absent for a cluster-wide agent. */
  namespaces?: string[];
  apps: BundleApp[];
}

/** Per cluster: which bundle to run. Signed by the hub; agents refuse anything else. */
export interface DesiredPointer {
  cluster: string;
  revision: string;
  /** `sha256:<hex>` of the bundle's canonical JSON. */
  bundleDigest: string;
  /** Only ever increases per cluster, also on rollbacks. */
  generation: number;
  issuedAt: string;
  /** Author and subject of the revision, for provenance. */
  commit?: { author: string; message: string };
  /**
   * W3C trace context of the resolve that issued the pointer: the agent's reconcile continues
   * that trace, so one trace runs from the commit to every cluster's apply and report. Signed
   * like every other field, so nobody can graft a pointer onto someone else's trace.
   */
  trace?: PointerTrace;
}

export interface PointerTrace {
  traceparent: string;
  tracestate?: string;
}

export interface SignedPointer extends DesiredPointer {
  /** Key id (sha256 of the hub's public key, first 16 hex chars). */
  keyId: string;
  /** base64 ed25519 signature over the canonical JSON of the DesiredPointer fields. */
  signature: string;
}
