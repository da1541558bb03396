// A KubeClient that counts the requests its callers make, by verb (dry-run applies apart), so a
// test can assert how many round trips an apply took on the real API server.
import type { KubeObject } from "@flotilla/model";
import { KubeClient, type ApplyCallOptions, type KubeResult, type ListOptions, type ListResult, type ObjectAddress } from "../index.js";

export interface RequestCounts {
  get: number;
  list: number;
  apply: number;
  dryRun: number;
}

export class CountingKubeClient extends KubeClient {
  counts: RequestCounts = { get: 0, list: 0, apply: 0, dryRun: 0 };

  reset(): void {
    this.counts = { get: 0, list: 0, apply: 0, dryRun: 0 };
  }

  override apply(o: KubeObject, opts: ApplyCallOptions): Promise<KubeResult<KubeObject>> {
    if (opts.dryRun) this.counts.dryRun++;
    else this.counts.apply++;
    return super.apply(o, opts);
  }

  override get(target: ObjectAddress): Promise<KubeResult<KubeObject | undefined>> {
    this.counts.get++;
    return super.get(target);
  }

  override list(apiVersion: string, kind: string, opts: ListOptions = {}): Promise<KubeResult<ListResult>> {
    this.counts.list++;
    return super.list(apiVersion, kind, opts);
  }
}
