// An in-memory DesiredStateSource: the test plays the hub and hands the reconciler verified
// desired states directly (signature and digest checks are the NATS adapter's job, tested there).
import { BUNDLE_API_VERSION, type Bundle, type BundleApp, type EffectivePolicy, type KubeObject } from "@flotilla/model";
import { canonicalJson, sha256Digest } from "@flotilla/wire";
import type { DesiredStateSource, Refusal, VerifiedDesired } from "../../src/ports.js";

type Handlers = Parameters<DesiredStateSource["start"]>[0];

export const enforce = (over: Partial<EffectivePolicy> = {}): EffectivePolicy => ({ drift: "enforce", prune: true, ignore: [], ...over });

export function app(name: string, objects: KubeObject[], policy: Partial<EffectivePolicy> = {}): BundleApp {
  return { name, policy: enforce(policy), objects };
}

export class MemoryDesiredState implements DesiredStateSource {
  private handlers: Handlers | undefined;
  private accepted: VerifiedDesired | undefined;
  private generation = 0;

  constructor(private readonly cluster: string, initial?: VerifiedDesired) {
    this.accepted = initial;
  }

  async start(handlers: Handlers): Promise<void> {
    this.handlers = handlers;
    if (this.accepted) handlers.onDesired(this.accepted);
  }

  current(): VerifiedDesired | undefined {
    return this.accepted;
  }

  async stop(): Promise<void> {
    this.handlers = undefined;
  }

  /** Publishes a new desired state with the next generation; returns it. */
  publish(apps: BundleApp[], revision = `rev-${this.generation + 1}`): VerifiedDesired {
    const bundle: Bundle = { apiVersion: BUNDLE_API_VERSION, cluster: this.cluster, revision, apps };
    const bundleDigest = sha256Digest(new TextEncoder().encode(canonicalJson(bundle)));
    this.generation++;
    const d: VerifiedDesired = {
      pointer: { cluster: this.cluster, revision, bundleDigest, generation: this.generation, issuedAt: new Date().toISOString(), keyId: "test", signature: "test" },
      bundle,
    };
    this.accepted = d;
    this.handlers?.onDesired(d);
    return d;
  }

  refuse(r: Refusal): void {
    this.handlers?.onRefused(r);
  }
}
