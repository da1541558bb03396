import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createIncrementalRenderer, imageName, lockFileText, openEnvRepo, pinImages, readFleetBytes, renderFleet, type EnvRepo, type IncrementalRenderer } from "@flotilla/envrepo";
import { commitFiles, createWorkRepo } from "@flotilla/envrepo/testing";

// A small fleet on a real Git repository: 2 dev clusters, 3 prod clusters (prod-2 with a cluster
// overlay for web), apps web (base/envs/clusters), worker (base only) and legacy (plain manifests).
const FLEET = `apiVersion: flotilla.dev/v1alpha1
environments: [{ name: dev }, { name: prod }]
clusters:
  - { name: dev-1, environment: dev }
  - { name: dev-2, environment: dev }
  - { name: prod-1, environment: prod }
  - { name: prod-2, environment: prod }
  - { name: prod-3, environment: prod }
apps:
  - { name: web, path: apps/web }
  - { name: worker, path: apps/worker }
  - { name: legacy, path: apps/legacy, selector: { environments: [prod] } }
`;

const kustomization = (body: string) => `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n${body}`;
const deployment = (name: string, replicas: number, image = "nginx:1.27") =>
  `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ${name}\nspec:\n  replicas: ${replicas}\n  template:\n    spec:\n      containers:\n        - name: ${name}\n          image: ${image}\n`;

const FILES: Record<string, string> = {
  "flotilla.yaml": FLEET,
  "README.md": "# env repo\n",
  "apps/web/base/kustomization.yaml": kustomization("namespace: web\nresources: [deployment.yaml]\nconfigMapGenerator:\n  - name: web-config\n    literals: [MODE=base]\n"),
  "apps/web/base/deployment.yaml": deployment("web", 1),
  "apps/web/envs/dev/kustomization.yaml": kustomization("resources: [../../base]\nlabels: [{ pairs: { env: dev } }]\n"),
  "apps/web/envs/prod/kustomization.yaml": kustomization("resources: [../../base]\nreplicas: [{ name: web, count: 3 }]\nimages: [{ name: nginx, newTag: '1.27.1' }]\n"),
  "apps/web/clusters/prod-2/kustomization.yaml": kustomization("resources: [../../envs/prod]\ncommonAnnotations: { cluster: prod-2 }\n"),
  "apps/worker/base/kustomization.yaml": kustomization("namespace: worker\nresources: [deployment.yaml]\n"),
  "apps/worker/base/deployment.yaml": deployment("worker", 2, "busybox:1.36"),
  "apps/legacy/00-namespace.yaml": "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: legacy\n",
  "apps/legacy/10-config.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: legacy\n  namespace: legacy\ndata: { a: '1' }\n",
};

let dir: string;
let repo: EnvRepo;
let renderer: IncrementalRenderer;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "envrepo-incremental-"));
  await createWorkRepo(dir, FILES);
  repo = openEnvRepo({ path: dir });
  renderer = createIncrementalRenderer();
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Renders HEAD incrementally and, independently, from scratch; both results are returned. */
async function renderHead() {
  const revision = await repo.fetch();
  const view = await repo.view(revision);
  const fleet = readFleetBytes(view.readFile("flotilla.yaml")!);
  if (!fleet.ok) throw new Error(fleet.errors[0]!.message);
  const changed = renderer.revision ? await repo.changedPaths(renderer.revision, revision) : undefined;
  const inc = renderer.render(view, fleet.fleet, revision, changed);
  const full = renderFleet(view, fleet.fleet, revision);
  const { counts, ...withoutCounts } = inc;
  void counts;
  return { revision, inc, full, changed, same: withoutCounts };
}

function replicasOf(r: Awaited<ReturnType<typeof renderHead>>["inc"], cluster: string, app: string): unknown {
  if (!r.ok) throw new Error(r.errors[0]!.message);
  const objects = r.bundles.find((b) => b.cluster === cluster)!.apps.find((a) => a.name === app)!.objects;
  return (objects.find((o) => o.kind === "Deployment") as unknown as { spec: { replicas: number } }).spec.replicas;
}

describe("incremental renderer", () => {
  it("renders every pair on the first revision, sharing the build of pairs that use the same directory", async () => {
    const { inc, full, same } = await renderHead();
    expect(inc.ok).toBe(true);
    // web ×5 + worker ×5 + legacy ×3 (prod only)
    expect(inc.counts).toMatchObject({ rendered: 13, reused: 0, clustersReused: 0 });
    // web: envs/dev, envs/prod, clusters/prod-2; worker: base; legacy: plain
    expect(inc.counts.builds).toBe(5);
    expect(same).toEqual(full);
  });

  it("re-renders only the pairs that read the changed file, and equals a full render", async () => {
    await renderHead();
    await commitFiles(dir, { "apps/web/envs/prod/kustomization.yaml": FILES["apps/web/envs/prod/kustomization.yaml"]!.replace("count: 3", "count: 5") }, "web: 5 in prod");
    const { inc, full, changed, revision, same } = await renderHead();
    expect(changed).toEqual(["apps/web/envs/prod/kustomization.yaml"]);
    // web on prod-1, prod-2 (its cluster overlay builds on envs/prod), prod-3
    expect(inc.counts).toMatchObject({ rendered: 3, reused: 10, builds: 2, clustersReused: 2 });
    expect(same).toEqual(full);
    expect(replicasOf(inc, "prod-2", "web")).toBe(5);
    expect(replicasOf(inc, "dev-1", "web")).toBe(1);
    // Unaffected clusters keep their content but carry the new revision.
    if (!inc.ok) return;
    expect(inc.bundles.map((b) => b.revision)).toEqual(Array(5).fill(revision));
  });

  it("a change to a base re-renders every pair of that app only", async () => {
    await renderHead();
    await commitFiles(dir, { "apps/worker/base/deployment.yaml": deployment("worker", 4, "busybox:1.36") }, "worker: 4");
    const { inc, full, same } = await renderHead();
    expect(inc.counts).toMatchObject({ rendered: 5, reused: 8, builds: 1, clustersReused: 0 });
    expect(same).toEqual(full);
    expect(replicasOf(inc, "prod-3", "worker")).toBe(4);
  });

  it("a new cluster overlay is picked up by its pair alone", async () => {
    await renderHead();
    await commitFiles(dir, { "apps/web/clusters/dev-2/kustomization.yaml": kustomization("resources: [../../envs/dev]\nreplicas: [{ name: web, count: 9 }]\n") }, "dev-2 overlay");
    const { inc, full, same } = await renderHead();
    expect(inc.counts).toMatchObject({ rendered: 1, reused: 12, builds: 1 });
    expect(same).toEqual(full);
    expect(replicasOf(inc, "dev-2", "web")).toBe(9);
    expect(replicasOf(inc, "dev-1", "web")).toBe(1);

    // Removed again: dev-2 falls back to envs/dev, whose still-valid build dev-1 uses is shared.
    await commitFiles(dir, { "apps/web/clusters/dev-2/kustomization.yaml": null }, "no dev-2 overlay");
    const back = await renderHead();
    expect(back.inc.counts).toMatchObject({ rendered: 1, reused: 12, builds: 0 });
    expect(back.same).toEqual(back.full);
    expect(replicasOf(back.inc, "dev-2", "web")).toBe(1);
  });

  it("a file added to a plain-manifest app is rendered; a file nobody reads renders nothing", async () => {
    await renderHead();
    await commitFiles(dir, { "apps/legacy/20-more.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: more\n  namespace: legacy\n" }, "more");
    let r = await renderHead();
    expect(r.inc.counts).toMatchObject({ rendered: 3, reused: 10, builds: 1 });
    expect(r.same).toEqual(r.full);
    await commitFiles(dir, { "README.md": "# env repo\n\nNotes.\n", "docs/notes.md": "x\n" }, "docs");
    r = await renderHead();
    expect(r.inc.counts).toMatchObject({ rendered: 0, reused: 13, builds: 0, clustersReused: 5 });
    expect(r.same).toEqual(r.full);
  });

  it("a change to the fleet file renders everything again", async () => {
    await renderHead();
    await commitFiles(dir, { "flotilla.yaml": FLEET.replace("{ name: prod }", "{ name: prod, drift: warn }") }, "prod warns");
    const { inc, full, same } = await renderHead();
    expect(inc.counts).toMatchObject({ rendered: 13, reused: 0, builds: 5 });
    expect(same).toEqual(full);
  });

  it("does not keep failed renders: a broken commit fails, its fix renders the pairs again", async () => {
    await renderHead();
    await commitFiles(dir, { "apps/worker/base/deployment.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: [oops\n" }, "break");
    const broken = await renderHead();
    expect(broken.inc.ok).toBe(false);
    expect(broken.full.ok).toBe(false);
    expect(broken.same).toEqual(broken.full);
    await commitFiles(dir, { "README.md": "unrelated\n" }, "unrelated");
    const still = await renderHead();
    expect(still.inc.ok).toBe(false);
    expect(still.inc.counts.rendered).toBe(5); // the failed worker pairs are tried again
    await commitFiles(dir, { "apps/worker/base/deployment.yaml": deployment("worker", 3, "busybox:1.36") }, "fix");
    const fixed = await renderHead();
    expect(fixed.inc.ok).toBe(true);
    expect(fixed.same).toEqual(fixed.full);
    expect(replicasOf(fixed.inc, "dev-1", "worker")).toBe(3);
  });

  it("equals a full render after every commit of a sequence of mixed edits", async () => {
    await renderHead();
    const edits: Record<string, string | null>[] = [
      { "apps/web/base/deployment.yaml": deployment("web", 2) },
      { "apps/web/clusters/prod-2/kustomization.yaml": null },
      { "apps/web/envs/dev/kustomization.yaml": kustomization("resources: [../../base]\nnamePrefix: dev-\n") },
      { "apps/worker/base/extra.yaml": "apiVersion: v1\nkind: Service\nmetadata:\n  name: worker\nspec:\n  ports: [{ port: 80 }]\n" },
      { "apps/worker/base/kustomization.yaml": kustomization("namespace: worker\nresources: [deployment.yaml, extra.yaml]\n") },
      { "apps/legacy/10-config.yaml": null },
      { "apps/web/base/kustomization.yaml": kustomization("namespace: web\nresources: [deployment.yaml]\nconfigMapGenerator:\n  - name: web-config\n    literals: [MODE=changed]\n") },
    ];
    for (const [i, files] of edits.entries()) {
      await commitFiles(dir, files, `edit ${i}`);
      const { inc, full, same } = await renderHead();
      expect(inc.ok, `edit ${i}`).toBe(true);
      expect(same, `edit ${i}`).toEqual(full);
      expect(inc.counts.rendered, `edit ${i}`).toBeLessThan(13);
    }
  });
});

describe("release locks", () => {
  const DIGEST = `sha256:${"a".repeat(64)}`;
  const lock = (cluster?: string, digest = DIGEST) =>
    lockFileText({
      apiVersion: "flotilla.dev/v1alpha1",
      kind: "ReleaseLock",
      app: "web",
      environment: "prod",
      ...(cluster ? { cluster } : {}),
      release: "rel-web-1",
      sourceRevision: "abc123",
      images: [{ name: "nginx", tag: "1.28", digest }],
      promotion: "prm-1",
    });
  const imageOf = (r: Awaited<ReturnType<typeof renderHead>>["inc"], cluster: string, app = "web") => {
    if (!r.ok) throw new Error(r.errors[0]!.message);
    const objects = r.bundles.find((b) => b.cluster === cluster)!.apps.find((a) => a.name === app)!.objects;
    return (objects.find((o) => o.kind === "Deployment") as unknown as { spec: { template: { spec: { containers: { image: string }[] } } } }).spec.template.spec.containers[0]!.image;
  };

  it("a cluster lock pins the images of that cluster alone; the environment lock pins the rest", async () => {
    await renderHead();
    await commitFiles(dir, { "promotions/web/prod/prod-1.lock.yaml": lock("prod-1") }, "wave 1");
    let r = await renderHead();
    expect(r.same).toEqual(r.full);
    expect(imageOf(r.inc, "prod-1")).toBe(`nginx@${DIGEST}`);
    expect(imageOf(r.inc, "prod-2")).toBe("nginx:1.27.1");
    expect(imageOf(r.inc, "prod-1", "worker")).toBe("busybox:1.36");
    // Only prod-1's bundle was assembled again.
    expect(r.inc.counts).toMatchObject({ rendered: 0, clustersReused: 4 });

    const other = `sha256:${"b".repeat(64)}`;
    await commitFiles(dir, { "promotions/web/prod.lock.yaml": lock(undefined, other) }, "env lock");
    r = await renderHead();
    expect(r.same).toEqual(r.full);
    expect(imageOf(r.inc, "prod-1")).toBe(`nginx@${DIGEST}`);
    expect(imageOf(r.inc, "prod-3")).toBe(`nginx@${other}`);
    expect(imageOf(r.inc, "dev-1")).toBe("nginx:1.27");
  });

  it("a broken lock fails the app's render with an error naming the file and field", async () => {
    await renderHead();
    await commitFiles(dir, { "promotions/web/prod/prod-2.lock.yaml": lock("prod-2").replace(DIGEST, "sha256:nope") }, "bad lock");
    const { inc } = await renderHead();
    expect(inc.ok).toBe(false);
    if (inc.ok) return;
    expect(inc.errors[0]!.message).toMatch(/app web: promotions\/web\/prod\/prod-2\.lock\.yaml: images\[0\]\.digest must be sha256:<64 hex>/);
    expect(inc.errors[0]!.location).toMatchObject({ file: "promotions/web/prod/prod-2.lock.yaml", field: "images[0].digest" });
  });

  it("pins by digest, by tag when the release has no digest, and leaves other images alone", () => {
    const objects = [
      { apiVersion: "v1", kind: "Pod", metadata: { name: "p" }, spec: { initContainers: [{ name: "i", image: "registry:5000/acme/shop:1@sha256:" + "c".repeat(64) }], containers: [{ name: "c", image: "other:1" }] } },
    ];
    const pinned = pinImages(objects, [{ name: "registry:5000/acme/shop", tag: "2" }]);
    expect((pinned[0]!.spec as { initContainers: { image: string }[] }).initContainers[0]!.image).toBe("registry:5000/acme/shop:2");
    expect((pinned[0]!.spec as { containers: { image: string }[] }).containers[0]!.image).toBe("other:1");
    expect(pinImages(objects, [{ name: "nothing", digest: DIGEST }])[0]).toBe(objects[0]);
    expect(imageName("registry:5000/acme/shop")).toBe("registry:5000/acme/shop");
  });
});
