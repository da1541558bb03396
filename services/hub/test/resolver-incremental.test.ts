import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import type { Cluster, ErrorInfo, SignedPointer } from "@flotilla/model";
import { generateSigningKey, wireNames, type SigningKey, type WireNames } from "@flotilla/wire";
import { openEnvRepo } from "@flotilla/envrepo";
import { commitFiles, createWorkRepo } from "@flotilla/envrepo/testing";
import { createTestNats, type TestNats } from "@flotilla/testkit";
import { BundlePublisher } from "../src/publish.js";
import { createResolver, type ResolverSink } from "../src/resolver.js";

// The resolver on a real repository and a real NATS: a commit re-renders only the (app, cluster)
// pairs whose read paths changed, and every cluster's pointer still moves to the new revision.
const FLEET = `apiVersion: flotilla.dev/v1alpha1
environments: [{ name: dev }, { name: prod }]
clusters:
  - { name: dev-1, environment: dev }
  - { name: prod-1, environment: prod }
  - { name: prod-2, environment: prod }
apps:
  - { name: api, path: apps/api }
  - { name: web, path: apps/web }
`;
const K = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n";
const deployment = (name: string) =>
  `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ${name}\nspec:\n  replicas: 1\n  template:\n    spec:\n      containers: [{ name: ${name}, image: "nginx:1.27" }]\n`;
const FILES: Record<string, string> = {
  "flotilla.yaml": FLEET,
  "README.md": "env repo\n",
  "apps/api/base/kustomization.yaml": `${K}namespace: api\nresources: [deployment.yaml]\n`,
  "apps/api/base/deployment.yaml": deployment("api"),
  "apps/api/envs/prod/kustomization.yaml": `${K}resources: [../../base]\nreplicas: [{ name: api, count: 3 }]\n`,
  "apps/web/base/kustomization.yaml": `${K}namespace: web\nresources: [deployment.yaml]\n`,
  "apps/web/base/deployment.yaml": deployment("web"),
};

class Sink implements ResolverSink {
  published: SignedPointer[] = [];
  async onClusters(_: Cluster[]) {}
  async onPublished(p: SignedPointer) {
    this.published.push(p);
  }
  async onRenderFailed(_r: string, _e: ErrorInfo[]) {}
  async onRenderSucceeded(_r: string) {}
}

let nats: TestNats;
let nc: NatsConnection;
let names: WireNames;
let dir: string;
let key: SigningKey;

beforeEach(async () => {
  nats = createTestNats("resolver-incremental");
  nc = await connect({ servers: nats.url });
  names = wireNames(nats.prefix);
  dir = await mkdtemp(join(tmpdir(), "hub-resolver-inc-"));
  await createWorkRepo(dir, FILES);
  key = generateSigningKey();
});
afterEach(async () => {
  await nc?.close();
  await nats?.cleanup();
  await rm(dir, { recursive: true, force: true });
});

describe("resolver: incremental rendering", () => {
  it("re-renders only the pairs a commit touched; only clusters whose bundle content changed get a new pointer", async () => {
    const publisher = new BundlePublisher({ nc, names });
    await publisher.ensureResources();
    let generation = 0;
    const resolver = createResolver({ repo: openEnvRepo({ path: dir }), publisher, signingKey: key, sink: new Sink(), nextGeneration: async () => ++generation });

    const first = await resolver.refresh();
    expect(first).toMatchObject({ failed: false, published: 3, counts: { rendered: 6, reused: 0 } });
    const before = await publisher.readPointer("dev-1");

    const r2 = await commitFiles(dir, { "apps/api/envs/prod/kustomization.yaml": `${K}resources: [../../base]\nreplicas: [{ name: api, count: 5 }]\n` }, "api: 5 in prod");
    const second = await resolver.refresh();
    // api on prod-1 and prod-2 (one shared build of apps/api/envs/prod); the rest reused.
    expect(second).toMatchObject({ revision: r2, failed: false, published: 2, counts: { rendered: 2, reused: 4, builds: 1, clustersReused: 1 } });
    for (const cluster of ["prod-1", "prod-2"]) {
      const p = await publisher.readPointer(cluster);
      expect(p?.revision, cluster).toBe(r2);
      const bundle = await publisher.readBundle(p!);
      const api = bundle!.apps.find((a) => a.name === "api")!.objects[0] as unknown as { spec: { replicas: number } };
      expect(api.spec.replicas, cluster).toBe(5);
    }
    // dev-1's bundle content is the same: it keeps its pointer (generation, digest and revision).
    expect(await publisher.readPointer("dev-1")).toEqual(before);

    // A commit nobody renders from: nothing rendered, no new pointer anywhere.
    const r3 = await commitFiles(dir, { "README.md": "notes\n" }, "docs");
    expect(await resolver.refresh()).toMatchObject({ revision: r3, published: 0, counts: { rendered: 0, reused: 6, builds: 0, clustersReused: 3 } });
    expect((await publisher.readPointer("prod-2"))?.revision).toBe(r2);

    // The fleet file changed: everything renders again.
    await commitFiles(dir, { "flotilla.yaml": FLEET.replace("{ name: prod }", "{ name: prod, drift: warn }") }, "prod warns");
    expect(await resolver.refresh()).toMatchObject({ failed: false, counts: { rendered: 6, reused: 0 } });
  });
});
