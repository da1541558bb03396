// KubeClient: raw-JSON access to one API server. API errors come back as failures (data), not
// exceptions; only programming errors throw.
import type { KubeObject, ObjectRef } from "@flotilla/model";
import { describeRef } from "@flotilla/model";
import { Discovery, DiscoveryError, type ResourceInfo } from "./discovery.js";
import { KubeHttp, type KubeHttpOptions } from "./http.js";
import { isObject } from "./json.js";
import type { KubeCredentials } from "./kube-connection.js";
import { prepareForApply } from "./prepare.js";
import { fail, failureFrom, ok, unreachable, type KubeResult } from "./result.js";
import { collectionPath, isObjectRef, objectPath, refOfTarget, targetOf, toTarget, type ObjectAddress, type ObjectTarget } from "./target.js";
import type { ListOptions, ListResult } from "./list.js";
import { startWatch, type WatchEventHandler, type WatchHandle, type WatchOptions } from "./watch.js";

export interface ApplyCallOptions {
  fieldManager: string;
  /** Take fields over from conflicting managers (default true: the bundle is the truth). */
  force?: boolean;
  /** Server-side dry run: validate, default and merge, but persist nothing. */
  dryRun?: boolean;
}

export type { ListOptions, ListResult } from "./list.js";

export interface DeleteOptions {
  propagationPolicy?: "Background" | "Foreground" | "Orphan";
  dryRun?: boolean;
}

export interface PatchOptions {
  fieldManager?: string;
  /** e.g. `scale` or `status`. */
  subresource?: string;
}

export const PatchType = {
  Json: "application/json-patch+json",
  Merge: "application/merge-patch+json",
  StrategicMerge: "application/strategic-merge-patch+json",
  Apply: "application/apply-patch+yaml",
} as const;
export type PatchType = (typeof PatchType)[keyof typeof PatchType];

export class KubeClient {
  readonly discovery: Discovery;
  private readonly http: KubeHttp;

  /** `kc`: a KubeConnection (see loadKubeCredentials) or a client-node KubeConfig. */
  constructor(kc: KubeCredentials, opts: KubeHttpOptions = {}) {
    this.http = new KubeHttp(kc, opts);
    this.discovery = new Discovery(this.http);
  }

  /** The API resource serving a kind, or an `UnknownKind` failure. */
  async resource(apiVersion: string, kind: string): Promise<KubeResult<ResourceInfo>> {
    try {
      const info = await this.discovery.resolve(apiVersion, kind);
      if (info) return ok(info);
      return fail({ status: 404, reason: "UnknownKind", message: `the API server serves no kind ${kind} in ${apiVersion}: is its CustomResourceDefinition installed and established?` });
    } catch (err) {
      if (err instanceof DiscoveryError) return fail(failureFrom(err.status, err.body, `discovery of ${apiVersion}`));
      return fail(unreachable(err, `${kind} ${apiVersion}`));
    }
  }

  /** Server-side apply of one object (PATCH application/apply-patch+yaml with the object as JSON). */
  async apply(o: KubeObject, opts: ApplyCallOptions): Promise<KubeResult<KubeObject>> {
    const ref = refOfTarget(targetOf(o));
    const info = await this.resource(o.apiVersion, o.kind);
    if (!info.ok) return info;
    if (info.value.namespaced && !o.metadata.namespace) {
      return fail({ status: 400, reason: "BadRequest", message: `${o.kind} ${o.metadata.name}: namespaced kind without metadata.namespace` });
    }
    return this.call(
      "PATCH",
      objectPath(info.value, o.metadata.namespace, o.metadata.name),
      {
        query: { fieldManager: opts.fieldManager, force: opts.force ?? true, dryRun: opts.dryRun ? "All" : undefined },
        body: prepareForApply(o),
        contentType: PatchType.Apply,
      },
      ref,
      [200, 201],
    ) as Promise<KubeResult<KubeObject>>;
  }

  /** The live object, or `undefined` when it does not exist. */
  async get(target: ObjectAddress): Promise<KubeResult<KubeObject | undefined>> {
    const t = await this.target(target);
    if (!t) return ok(undefined);
    const info = await this.resource(t.apiVersion, t.kind);
    if (!info.ok) return info.failure.reason === "UnknownKind" ? ok(undefined) : info;
    const r = await this.call("GET", objectPath(info.value, t.namespace, t.name), {}, refOfTarget(t), [200]);
    if (!r.ok && r.failure.status === 404) return ok(undefined);
    return r as KubeResult<KubeObject>;
  }

  async list(apiVersion: string, kind: string, opts: ListOptions = {}): Promise<KubeResult<ListResult>> {
    const info = await this.resource(apiVersion, kind);
    if (!info.ok) return info;
    const r = await this.call("GET", collectionPath(info.value, opts.namespace), { query: { labelSelector: opts.labelSelector } }, `${kind} list`, [200]);
    if (!r.ok) return r;
    const body = isObject(r.value) ? r.value : {};
    const items = (Array.isArray(body["items"]) ? body["items"] : []).filter(isObject) as KubeObject[];
    const meta = isObject(body["metadata"]) ? body["metadata"] : {};
    // Items of a list carry no apiVersion/kind: restore them so they are complete objects.
    return ok({
      items: items.map((i) => ({ ...i, apiVersion, kind })),
      resourceVersion: typeof meta["resourceVersion"] === "string" ? meta["resourceVersion"] : "",
    });
  }

  /** Deletes one object: `deleted` when the server accepted the deletion (finalizers may still
   * hold it), `absent` when there was nothing to delete. */
  async delete(target: ObjectAddress, opts: DeleteOptions = {}): Promise<KubeResult<"deleted" | "absent">> {
    const t = await this.target(target);
    if (!t) return ok("absent");
    const info = await this.resource(t.apiVersion, t.kind);
    if (!info.ok) return info.failure.reason === "UnknownKind" ? ok("absent") : info;
    const r = await this.call(
      "DELETE",
      objectPath(info.value, t.namespace, t.name),
      { query: { dryRun: opts.dryRun ? "All" : undefined }, body: { kind: "DeleteOptions", apiVersion: "v1", propagationPolicy: opts.propagationPolicy ?? "Background" } },
      refOfTarget(t),
      [200, 202],
    );
    if (!r.ok && r.failure.status === 404) return ok("absent");
    return r.ok ? ok("deleted") : r;
  }

  /** A PATCH of any type, optionally on a subresource (e.g. `scale`). */
  async patch(target: ObjectAddress, body: unknown, type: PatchType, opts: PatchOptions = {}): Promise<KubeResult<KubeObject>> {
    const t = await this.target(target);
    if (!t) return fail({ status: 404, reason: "UnknownKind", message: `${describeRef(target as ObjectRef)}: the API server serves no API group ${(target as ObjectRef).group}` });
    const info = await this.resource(t.apiVersion, t.kind);
    if (!info.ok) return info;
    const path = objectPath(info.value, t.namespace, t.name) + (opts.subresource ? `/${opts.subresource}` : "");
    return this.call("PATCH", path, { query: { fieldManager: opts.fieldManager }, body, contentType: type }, refOfTarget(t), [200, 201]) as Promise<KubeResult<KubeObject>>;
  }

  /** Watches one kind (see startWatch): list, then stream events; restarts with backoff. */
  watch(apiVersion: string, kind: string, opts: WatchOptions, onEvent: WatchEventHandler): WatchHandle {
    const deps = { http: this.http, resource: (v: string, k: string) => this.resource(v, k), list: (v: string, k: string, o: ListOptions) => this.list(v, k, o) };
    return startWatch(deps, apiVersion, kind, opts, onEvent);
  }

  /** A target with an apiVersion; for a version-less ObjectRef, its group's preferred version
   * (undefined when the server does not serve the group). */
  private async target(a: ObjectAddress): Promise<ObjectTarget | undefined> {
    if (!isObjectRef(a)) return toTarget(a);
    let version: string | undefined;
    try {
      version = await this.discovery.preferredVersion(a.group);
    } catch {
      version = undefined;
    }
    if (version === undefined) return undefined;
    return { apiVersion: version, kind: a.kind, name: a.name, ...(a.namespace ? { namespace: a.namespace } : {}) };
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    this.http.close();
  }

  private async call(
    method: string,
    path: string,
    o: Parameters<KubeHttp["request"]>[2],
    subject: Parameters<typeof failureFrom>[2],
    okStatuses: number[],
  ): Promise<KubeResult<unknown>> {
    try {
      const res = await this.http.request(method, path, o);
      if (okStatuses.includes(res.status)) return ok(res.body);
      return fail(failureFrom(res.status, res.body, subject));
    } catch (err) {
      return fail(unreachable(err, subject));
    }
  }
}
