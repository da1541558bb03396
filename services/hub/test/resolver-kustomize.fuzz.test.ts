// Bad-input property test of the env repo's Kustomize trees (docs/bad-input.md), rendered by the
// hub's real resolver on a real Git repository and NATS: seeded mutations of kustomization.yaml
// files and manifests (broken YAML, unknown fields, wrong types, missing resources, cycles,
// patches that target nothing, files over the size limit). Each bad commit must come back, within
// a bound, as a render failure whose every error has a stable code and names the file (and the
// field, where the file is a kustomization); no cluster's pointer moves; and the next good commit
// renders and publishes again.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { parse, stringify } from "yaml";
import { ErrorCode, values, type Cluster, type ErrorInfo, type SignedPointer } from "@flotilla/model";
import { generateSigningKey, wireNames } from "@flotilla/wire";
import { openEnvRepo } from "@flotilla/envrepo";
import { commitFiles, createWorkRepo } from "@flotilla/envrepo/testing";
import { createTestNats, type TestNats } from "@flotilla/testkit";
import { forEachSeed, mutateText, mutateValue, type Rng } from "@flotilla/testkit/mutate";
import { BundlePublisher } from "../src/publish.js";
import { createResolver, type ResolveOutcome, type Resolver } from "../src/resolver.js";

const CLUSTERS = ["dev-1", "prod-1", "prod-2"];
const K = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n";
const GOOD: Record<string, string> = {
  "flotilla.yaml": `apiVersion: flotilla.dev/v1alpha1
environments: [{ name: dev }, { name: prod }]
clusters:
  - { name: dev-1, environment: dev }
  - { name: prod-1, environment: prod }
  - { name: prod-2, environment: prod }
apps:
  - { name: api, path: apps/api }
  - { name: web, path: apps/web }
`,
  "apps/api/base/kustomization.yaml": `${K}namespace: api
resources: [deployment.yaml, service.yaml]
labels:
  - pairs: { app.kubernetes.io/name: api }
configMapGenerator:
  - name: api-config
    literals: [LOG_LEVEL=info]
`,
  "apps/api/base/deployment.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  replicas: 1
  selector: { matchLabels: { app: api } }
  template:
    metadata: { labels: { app: api } }
    spec:
      containers:
        - name: api
          image: "nginx:1.27"
          envFrom: [{ configMapRef: { name: api-config } }]
`,
  "apps/api/base/service.yaml": `apiVersion: v1
kind: Service
metadata:
  name: api
spec:
  selector: { app: api }
  ports: [{ port: 80, targetPort: 8080 }]
`,
  "apps/api/envs/prod/kustomization.yaml": `${K}resources: [../../base]
replicas: [{ name: api, count: 3 }]
images: [{ name: nginx, newTag: "1.28" }]
patches:
  - path: resources.yaml
`,
  "apps/api/envs/prod/resources.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: api
spec:
  template:
    spec:
      containers:
        - name: api
          resources: { limits: { memory: 256Mi } }
`,
  "apps/api/clusters/prod-2/kustomization.yaml": `${K}resources: [../../envs/prod]
patches:
  - target: { kind: Deployment, name: api }
    patch: |-
      - op: replace
        path: /spec/replicas
        value: 5
`,
  "apps/web/base/kustomization.yaml": `${K}namespace: web
resources: [deployment.yaml]
`,
  "apps/web/base/deployment.yaml": `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
spec:
  selector: { matchLabels: { app: web } }
  template:
    metadata: { labels: { app: web } }
    spec:
      containers: [{ name: web, image: "nginx:1.27" }]
`,
};
const TREE_FILES = Object.keys(GOOD).filter((f) => f.startsWith("apps/"));
const KUSTOMIZATIONS = TREE_FILES.filter((f) => f.endsWith("kustomization.yaml"));

type Change = { what: string; files: Record<string, string | null> };

/** One seeded bad (or, by chance, harmless) change of the tree. */
function mutation(rng: Rng): Change {
  const file = rng.pick(TREE_FILES);
  const k = rng.pick(KUSTOMIZATIONS);
  const kust = parse(GOOD[k]!) as Record<string, unknown>;
  const dirOf = (f: string) => f.slice(0, f.lastIndexOf("/"));
  switch (rng.int(9)) {
    case 0: {
      const m = mutateText(GOOD[file]!, rng);
      return { what: `${file}: text ${m.what}`, files: { [file]: m.text } };
    }
    case 1: {
      const m = mutateValue(parse(GOOD[file]!), rng, { hugeBytes: 100_000 });
      // As JSON (valid YAML): yaml's block printer recurses per level and cannot print 1000 deep.
      return { what: `${file}: value ${m.what}`, files: { [file]: m.value === undefined ? "" : JSON.stringify(m.value) } };
    }
    case 2: {
      const field = rng.pick(["resourcez", "patchesStrategicMerge2", "namePrefix ", "bases"]);
      return { what: `${k}: unknown field ${field}`, files: { [k]: stringify({ ...kust, [field]: ["x.yaml"] }) } };
    }
    case 3: {
      const field = rng.pick(["resources", "patches", "images", "replicas", "namespace", "labels"]);
      return { what: `${k}: wrong type at ${field}`, files: { [k]: stringify({ ...kust, [field]: rng.pick([42, "a-string", { a: 1 }, [1, 2], true]) }) } };
    }
    case 4:
      return { what: `${k}: missing resource`, files: { [k]: stringify({ ...kust, resources: [...((kust.resources as string[]) ?? []), rng.pick(["missing.yaml", "../../nowhere", "gone/"])] }) } };
    case 5: {
      // The base pulls in what builds on it (or itself): a cycle.
      const base = "apps/api/base/kustomization.yaml";
      const back = rng.pick(["../envs/prod", ".", "../clusters/prod-2"]);
      return { what: `${base}: cycle through ${back}`, files: { [base]: GOOD[base]!.replace("resources: [deployment.yaml, service.yaml]", `resources: [deployment.yaml, service.yaml, ${back}]`) } };
    }
    case 6: {
      const target = rng.pick([
        "  - target: { kind: Deployment, name: nothing-here }\n    patch: |-\n      - op: replace\n        path: /spec/replicas\n        value: 2\n",
        "  - path: nothing.yaml\n",
        "  - patch: |-\n      apiVersion: apps/v1\n      kind: Deployment\n      metadata: { name: not-a-deployment }\n      spec: { replicas: 2 }\n",
        "  - target: { kind: Deployment, name: api }\n    patch: |-\n      - op: replace\n        path: /spec/nope/deeper\n        value: 2\n",
      ]);
      const f = "apps/api/clusters/prod-2/kustomization.yaml";
      return { what: `${f}: patch that targets nothing`, files: { [f]: `${GOOD[f]!}\n${target}`.replace("patches:\n", "patches:\n").replace(/\n\n {2}- /, "\n  - ") } };
    }
    case 7: {
      // Over the renderer's 8 MiB per-file limit.
      const f = rng.pick(["apps/api/base/service.yaml", "apps/web/base/kustomization.yaml"]);
      return { what: `${f}: huge file`, files: { [f]: `${GOOD[f]!}# ${"x".repeat(9 * 1024 * 1024)}\n` } };
    }
    default: {
      // A file a kustomization names, deleted.
      const victim = rng.pick(["apps/api/base/service.yaml", "apps/api/envs/prod/resources.yaml", "apps/api/base/kustomization.yaml"]);
      return { what: `${victim}: deleted (${dirOf(victim)})`, files: { [victim]: null } };
    }
  }
}

/** A resolve, bounded: a renderer that hangs on a mutated input is a failure of its own. */
async function boundedRefresh(resolver: Resolver, what: string): Promise<ResolveOutcome> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`resolve did not finish within 20 s (${what})`)), 20_000);
  });
  try {
    return await Promise.race([resolver.refresh(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe("env repo kustomizations under bad input (real resolver, Git repository, NATS)", () => {
  let nats: TestNats;
  let nc: NatsConnection;
  let dir: string;
  let publisher: BundlePublisher;
  let resolver: Resolver;
  const failures: { revision: string; errors: ErrorInfo[] }[] = [];

  beforeAll(async () => {
    nats = createTestNats("kustfuzz");
    nc = await connect({ servers: nats.url });
    dir = await mkdtemp(join(tmpdir(), "hub-kust-fuzz-"));
    await createWorkRepo(dir, GOOD);
    publisher = new BundlePublisher({ nc, names: wireNames(nats.prefix) });
    await publisher.ensureResources();
    let generation = 0;
    resolver = createResolver({
      repo: openEnvRepo({ path: dir }),
      publisher,
      signingKey: generateSigningKey(),
      nextGeneration: async () => ++generation,
      sink: {
        onClusters: async (_: Cluster[]) => undefined,
        onPublished: async (_: SignedPointer) => undefined,
        onRenderFailed: async (revision, errors) => void failures.push({ revision, errors }),
        onRenderSucceeded: async () => undefined,
      },
    });
  });
  afterAll(async () => {
    await resolver?.stop();
    await nc?.close();
    await nats?.cleanup();
    await rm(dir, { recursive: true, force: true });
  });

  const pointers = async () => Object.fromEntries(await Promise.all(CLUSTERS.map(async (c) => [c, await publisher.readPointer(c)] as const)));

  it("fails every bad commit naming file and field, keeps every pointer, and recovers on the next good commit", async () => {
    const first = await resolver.refresh();
    expect(first, JSON.stringify(first.errors)).toMatchObject({ failed: false, published: 3 });
    let good = await pointers();
    const codes = values(ErrorCode) as string[];
    const tally = { failed: 0, harmless: 0 };

    await forEachSeed(80, async (rng) => {
      const change = mutation(rng);
      const revision = await commitFiles(dir, change.files, `fuzz ${rng.seed}: ${change.what}`);
      const outcome = await boundedRefresh(resolver, change.what);
      expect(outcome.revision).toBe(revision);
      if (outcome.failed) {
        tally.failed++;
        const what = `${change.what} → ${JSON.stringify(outcome.errors)}`;
        // Deterministic: a bad commit is not retried as if the repo were away.
        expect(outcome.retryable, what).toBeFalsy();
        expect(outcome.errors?.length, what).toBeGreaterThan(0);
        for (const e of outcome.errors!) {
          expect(codes, what).toContain(e.code);
          expect(e.code, what).not.toBe(ErrorCode.Internal);
          expect(e.location?.file, `${what}: names the file`).toMatch(/^(apps\/|flotilla\.yaml)/);
          expect(e.message.length, what).toBeGreaterThan(0);
          // A kustomization error names its field (or line), unless the document as a whole is wrong.
          const whole = /must be a YAML mapping|not valid YAML|empty/.test(e.message);
          if (e.location!.file!.endsWith("kustomization.yaml") && e.code !== ErrorCode.ManifestInvalid && !whole) expect(e.location?.field ?? e.location?.line, `${what}: names the field or line`).toBeDefined();
        }
        expect(failures.at(-1)?.revision, what).toBe(revision);
        // The last good revision keeps serving: not one pointer moved.
        expect(await pointers(), what).toEqual(good);
      } else {
        // A mutation that still renders (a duplicated list entry, a comment): its pointers are the new good.
        tally.harmless++;
        good = await pointers();
      }
      // The next good commit renders and publishes again.
      const restore = Object.fromEntries(Object.keys(change.files).map((f) => [f, GOOD[f] ?? null]));
      await commitFiles(dir, restore, `fuzz ${rng.seed}: restore`);
      const back = await boundedRefresh(resolver, `restore after ${change.what}`);
      expect(back.failed, `restore after ${change.what}: ${JSON.stringify(back.errors)}`).toBe(false);
      good = await pointers();
      for (const c of CLUSTERS) expect(good[c]?.revision === back.revision || back.published < CLUSTERS.length, c).toBe(true);
    });
    expect(tally.failed).toBeGreaterThan(50);
    console.info(`kustomize fuzz: ${JSON.stringify(tally)}`);
  }, 600_000);
});
