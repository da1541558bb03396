// A small RESTMapper: (apiVersion, kind) → plural, scope and verbs, from /api/v1, /apis and
// /apis/<group>/<version>. Group-versions are fetched lazily and cached; a miss refetches that
// group-version, because CRDs add kinds after the cache was built.
import type { KubeHttp } from "./http.js";
import { isObject } from "./json.js";

export interface ResourceInfo {
  group: string;
  version: string;
  kind: string;
  /** The URL segment, e.g. `deployments`. */
  plural: string;
  namespaced: boolean;
  verbs: string[];
}

type GroupVersion = Map<string, ResourceInfo>;

/** Discovery answered with an HTTP error (not 404, which means "not served"). */
export class DiscoveryError extends Error {
  override readonly name = "DiscoveryError";
  constructor(readonly status: number, readonly apiVersion: string, readonly body: unknown) {
    super(`discovery of ${apiVersion} failed: HTTP ${status}`);
  }
}

export class Discovery {
  private readonly groupVersions = new Map<string, Promise<GroupVersion | undefined>>();
  private preferred: Promise<Map<string, string>> | undefined;

  constructor(private readonly http: KubeHttp) {}

  /** The resource serving `kind` in `apiVersion`, or undefined when the server has none. */
  async resolve(apiVersion: string, kind: string): Promise<ResourceInfo | undefined> {
    const cached = await this.load(apiVersion);
    const hit = cached?.get(kind);
    if (hit) return hit;
    this.invalidate(apiVersion);
    return (await this.load(apiVersion))?.get(kind);
  }

  /** The server's preferred version of an API group (`""` for core), e.g. `apps/v1`. */
  async preferredVersion(group: string): Promise<string | undefined> {
    if (group === "") return "v1";
    this.preferred ??= this.loadPreferred();
    const v = (await this.preferred).get(group);
    if (v !== undefined) return v;
    this.preferred = this.loadPreferred();
    return (await this.preferred).get(group);
  }

  /** Forget one group-version (or everything), e.g. after a CRD was established. */
  invalidate(apiVersion?: string): void {
    if (apiVersion === undefined) {
      this.groupVersions.clear();
      this.preferred = undefined;
    } else {
      this.groupVersions.delete(apiVersion);
      this.preferred = undefined;
    }
  }

  private load(apiVersion: string): Promise<GroupVersion | undefined> {
    let p = this.groupVersions.get(apiVersion);
    if (!p) {
      p = this.fetchGroupVersion(apiVersion);
      // A failed fetch must not poison the cache.
      p.catch(() => this.groupVersions.delete(apiVersion));
      this.groupVersions.set(apiVersion, p);
    }
    return p;
  }

  private async fetchGroupVersion(apiVersion: string): Promise<GroupVersion | undefined> {
    const path = apiVersion.includes("/") ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
    const res = await this.http.request("GET", path);
    if (res.status === 404) {
      this.groupVersions.delete(apiVersion); // not served yet; ask again next time
      return undefined;
    }
    if (res.status !== 200 || !isObject(res.body)) throw new DiscoveryError(res.status, apiVersion, res.body);
    const [group, version] = apiVersion.includes("/") ? (apiVersion.split("/") as [string, string]) : ["", apiVersion];
    const out: GroupVersion = new Map();
    const resources = Array.isArray(res.body["resources"]) ? res.body["resources"] : [];
    for (const r of resources.filter(isObject)) {
      const name = r["name"];
      if (typeof name !== "string" || name.includes("/")) continue; // subresources
      const kind = r["kind"];
      if (typeof kind !== "string" || out.has(kind)) continue;
      out.set(kind, {
        group,
        version,
        kind,
        plural: name,
        namespaced: r["namespaced"] === true,
        verbs: Array.isArray(r["verbs"]) ? r["verbs"].filter((v): v is string => typeof v === "string") : [],
      });
    }
    return out;
  }

  private async loadPreferred(): Promise<Map<string, string>> {
    const res = await this.http.request("GET", "/apis");
    const out = new Map<string, string>();
    if (res.status !== 200 || !isObject(res.body)) return out;
    const groups = Array.isArray(res.body["groups"]) ? res.body["groups"] : [];
    for (const g of groups.filter(isObject)) {
      const pv = g["preferredVersion"];
      if (typeof g["name"] === "string" && isObject(pv) && typeof pv["groupVersion"] === "string") out.set(g["name"], pv["groupVersion"]);
    }
    return out;
  }
}
