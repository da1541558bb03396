// maxBundleBytes: a cluster whose rendered bundle is over the limit is not published — a render
// failure of that revision naming the cluster, its size and the limit (FLOTILLA_ERR_BUNDLE_TOO_LARGE);
// that cluster keeps its last good pointer while the other clusters publish, and it publishes again
// once a commit brings it under the limit. Real Git repository and NATS.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { ErrorCode, type ErrorInfo } from "@flotilla/model";
import { generateSigningKey, wireNames } from "@flotilla/wire";
import { openEnvRepo } from "@flotilla/envrepo";
import { commitFiles, createWorkRepo } from "@flotilla/envrepo/testing";
import { createTestNats, type TestNats } from "@flotilla/testkit";
import { BundlePublisher } from "../src/publish.js";
import { createResolver } from "../src/resolver.js";

const LIMIT = 64 * 1024;
const K = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n";
const FILES = {
  "flotilla.yaml": `apiVersion: flotilla.dev/v1alpha1
environments: [{ name: dev }, { name: prod }]
clusters:
  - { name: dev-1, environment: dev }
  - { name: prod-1, environment: prod }
apps:
  - { name: api, path: apps/api }
`,
  "apps/api/base/kustomization.yaml": `${K}namespace: api\nconfigMapGenerator: [{ name: api, literals: [LEVEL=info] }]\n`,
  "apps/api/clusters/prod-1/kustomization.yaml": `${K}resources: [../../base]\n`,
};
/** prod-1's overlay with a ConfigMap of `bytes` bytes. */
const bigOverlay = (bytes: number) => `${K}resources: [../../base]\nconfigMapGenerator: [{ name: blob, literals: ["DATA=${"x".repeat(bytes)}"] }]\n`;

let nats: TestNats;
let nc: NatsConnection;
let dir: string;

beforeEach(async () => {
  nats = createTestNats("bundlelimit");
  nc = await connect({ servers: nats.url });
  dir = await mkdtemp(join(tmpdir(), "hub-bundle-limit-"));
  await createWorkRepo(dir, FILES);
});
afterEach(async () => {
  await nc?.close();
  await nats?.cleanup();
  await rm(dir, { recursive: true, force: true });
});

describe("resolver: maxBundleBytes", () => {
  it("refuses the oversize cluster's bundle naming cluster, size and limit; it keeps its pointer, the others publish, and it recovers", async () => {
    const publisher = new BundlePublisher({ nc, names: wireNames(nats.prefix), maxBundleBytes: LIMIT });
    await publisher.ensureResources();
    const failed: { revision: string; errors: ErrorInfo[] }[] = [];
    const resolved: string[] = [];
    let generation = 0;
    const resolver = createResolver({
      repo: openEnvRepo({ path: dir }),
      publisher,
      signingKey: generateSigningKey(),
      nextGeneration: async () => ++generation,
      sink: {
        onClusters: async () => undefined,
        onPublished: async () => undefined,
        onRenderFailed: async (revision, errors) => void failed.push({ revision, errors }),
        onRenderSucceeded: async (revision) => void resolved.push(revision),
      },
    });
    const first = await resolver.refresh();
    expect(first).toMatchObject({ failed: false, published: 2 });
    const prodBefore = await publisher.readPointer("prod-1");

    // One commit that changes both clusters and makes prod-1's bundle twice the limit.
    const big = await commitFiles(
      dir,
      { "apps/api/base/kustomization.yaml": FILES["apps/api/base/kustomization.yaml"].replace("LEVEL=info", "LEVEL=debug"), "apps/api/clusters/prod-1/kustomization.yaml": bigOverlay(2 * LIMIT) },
      "prod-1: a big ConfigMap",
    );
    const outcome = await resolver.refresh();
    expect(outcome).toMatchObject({ revision: big, failed: true, published: 1 });
    expect(outcome.retryable).toBeFalsy();
    expect(outcome.errors).toHaveLength(1);
    const [error] = outcome.errors!;
    expect(error!.code).toBe(ErrorCode.BundleTooLarge);
    expect(error!.message).toMatch(new RegExp(`bundle of cluster "prod-1" at revision ${big} is \\d+ bytes, over the limit of ${LIMIT} bytes`));
    expect(Number(/is (\d+) bytes/.exec(error!.message)![1])).toBeGreaterThan(2 * LIMIT);
    expect(failed).toEqual([{ revision: big, errors: outcome.errors }]);
    expect(resolved).toEqual([first.revision]);
    // prod-1 keeps its last good pointer; dev-1 moved on.
    expect(await publisher.readPointer("prod-1")).toEqual(prodBefore);
    expect((await publisher.readPointer("dev-1"))?.revision).toBe(big);
    // The same revision is not retried as if NATS were away.
    expect(await resolver.refresh()).toMatchObject({ revision: big, failed: true, published: 0 });

    const small = await commitFiles(dir, { "apps/api/clusters/prod-1/kustomization.yaml": bigOverlay(1024) }, "prod-1: a small ConfigMap");
    expect(await resolver.refresh()).toMatchObject({ revision: small, failed: false, published: 1 });
    const prodAfter = await publisher.readPointer("prod-1");
    expect(prodAfter?.revision).toBe(small);
    expect(prodAfter!.generation).toBeGreaterThan(prodBefore!.generation);
    expect(resolved).toEqual([first.revision, small]);
  });
});
