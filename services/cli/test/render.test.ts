// `flotilla render` run as a user runs it (a child process), compared with `kubectl kustomize`
// on the same trees: same documents in the same order, errors on stderr with exit code 1.
import { execFile, spawnSync } from "node:child_process";
import { mkdtemp, mkdir, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { commitFiles, createWorkRepo, pushWorkRepo, readFilesFrom, startGitHttpServer } from "@flotilla/envrepo/testing";

const ROOT = fileURLToPath(new URL("../../../", import.meta.url));
const MAIN = join(ROOT, "services/cli/src/main.ts");
const FLEET_EXAMPLE = join(ROOT, "examples/fleet-kustomize");
const TSX = import.meta.resolve("tsx");

interface Run {
  status: number;
  stdout: string;
  stderr: string;
}

/** `flotilla render ...` from its sources, in `cwd`. */
function flotilla(args: string[], cwd = ROOT, env: NodeJS.ProcessEnv = {}): Promise<Run> {
  return new Promise((resolve) => {
    const options = { cwd, maxBuffer: 64 << 20, env: { ...process.env, ...env } };
    execFile(process.execPath, ["--conditions=@flotilla/source", "--import", TSX, MAIN, "render", ...args], options, (err, stdout, stderr) => {
      const status = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 1) : 0;
      resolve({ status, stdout, stderr });
    });
  });
}

function kubectlKustomize(dir: string): Run {
  const r = spawnSync("kubectl", ["kustomize", dir], { encoding: "utf8", maxBuffer: 64 << 20 });
  if (r.error) throw new Error(`kubectl is needed for this test: ${r.error.message}`);
  return { status: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

function docs(text: string): unknown[] {
  return parseAllDocuments(text, { version: "1.1" })
    .map((d) => {
      if (d.errors.length) throw new Error(`unparseable YAML: ${d.errors[0]!.message}`);
      return d.toJSON() as unknown;
    })
    .filter((d) => d !== null && d !== undefined);
}

/** Every directory under `dir` holding a kustomization.yaml. */
async function kustomizationDirs(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.isDirectory()) out.push(...(await kustomizationDirs(join(dir, e.name))));
    else if (e.name === "kustomization.yaml") out.push(dir);
  }
  return out.sort();
}

const K = "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n";

/** A tree outside any Git repository, exercising generators, patches, images and YAML 1.1 values. */
const TREE: Record<string, string> = {
  "base/kustomization.yaml": `${K}namespace: shop
namePrefix: shop-
commonLabels:
  team: web
resources: [deployment.yaml, service.yaml]
configMapGenerator:
  - name: cfg
    literals: ["FLAG=yes", "PORT=8080", "EMPTY="]
    files: [motd.txt]
secretGenerator:
  - name: creds
    literals: [user=admin]
images:
  - name: nginx
    newName: registry.example.com/nginx
    newTag: "1.27"
`,
  "base/motd.txt": "Welcome!\nLine two: with a colon\n",
  "base/deployment.yaml": `# a comment
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  annotations:
    note: "on"
spec:
  replicas: 1
  template:
    spec:
      containers:
        - name: web
          image: nginx
          envFrom: [{ configMapRef: { name: cfg } }, { secretRef: { name: creds } }]
          command: ["sh", "-c", "echo 'hi'; exec nginx -g 'daemon off;'"]
      volumes:
        - name: cfg
          configMap: { name: cfg, defaultMode: 0644 }
`,
  "base/service.yaml": "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\nspec:\n  ports: [{ port: 80, targetPort: 8080 }]\n",
  "overlay/kustomization.yaml": `${K}resources: [../base]
replicas: [{ name: shop-web, count: 3 }]
patches:
  - target: { kind: Service }
    patch: |-
      - op: add
        path: /spec/type
        value: NodePort
  - patch: |-
      apiVersion: apps/v1
      kind: Deployment
      metadata: { name: shop-web, namespace: shop }
      spec:
        template:
          spec:
            containers:
              - name: web
                resources: { limits: { memory: 128Mi } }
`,
};

let tree: string;
beforeAll(async () => {
  tree = await mkdtemp(join(tmpdir(), "flotilla-render-cli-"));
  for (const [path, text] of Object.entries(TREE)) {
    await mkdir(dirname(join(tree, path)), { recursive: true });
    await writeFile(join(tree, path), text);
  }
});
afterAll(async () => {
  await rm(tree, { recursive: true, force: true });
});

describe("flotilla render DIR: a drop-in for kubectl kustomize DIR", () => {
  it("prints the same documents in the same order for a tree outside any repository, run from inside the overlay", async () => {
    const overlay = join(tree, "overlay");
    const ours = await flotilla(["."], overlay);
    const theirs = kubectlKustomize(overlay);
    expect(theirs.status).toBe(0);
    expect(ours.stderr).toBe("");
    expect(ours.status).toBe(0);
    expect(docs(ours.stdout)).toEqual(docs(theirs.stdout));
    expect(docs(ours.stdout).length).toBe(4);
  });

  it("prints the same documents for every kustomization of examples/fleet-kustomize", async () => {
    const dirs = await kustomizationDirs(join(FLEET_EXAMPLE, "apps"));
    expect(dirs.length).toBeGreaterThanOrEqual(10);
    for (const dir of dirs) {
      const [ours, theirs] = [await flotilla([dir]), kubectlKustomize(dir)];
      expect(theirs.status, dir).toBe(0);
      expect({ dir, status: ours.status, stderr: ours.stderr }).toEqual({ dir, status: 0, stderr: "" });
      expect(docs(ours.stdout), dir).toEqual(docs(theirs.stdout));
    }
  });

  it("fails like kubectl kustomize, with the message on stderr naming the kustomization, and exit code 1", async () => {
    const broken = join(tree, "broken");
    await mkdir(broken, { recursive: true });
    await writeFile(join(broken, "kustomization.yaml"), `${K}resources: [missing.yaml]\n`);
    const ours = await flotilla([broken]);
    expect(kubectlKustomize(broken).status).not.toBe(0);
    expect(ours.status).toBe(1);
    expect(ours.stdout).toBe("");
    expect(ours.stderr).toMatch(/^Error: .*broken\/kustomization\.yaml.*resources\[0\].*missing\.yaml/);

    const remote = join(tree, "remote");
    await mkdir(remote, { recursive: true });
    await writeFile(join(remote, "kustomization.yaml"), `${K}resources: [https://github.com/example/repo//base?ref=v1]\n`);
    const r = await flotilla([remote]);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/^Error: .*remote\/kustomization\.yaml.*resources/);

    const none = await flotilla([join(tree, "does-not-exist")]);
    expect(none.status).toBe(1);
    expect(none.stderr).toMatch(/^Error: /);
  });

  it("refuses wrong usage with exit code 2", async () => {
    expect((await flotilla([])).status).toBe(2);
    expect((await flotilla([tree, "--cluster", "x"])).status).toBe(2);
  });
});

describe("flotilla render --repo PATH --cluster NAME [--app APP]", () => {
  let repo: string;
  beforeAll(async () => {
    repo = await mkdtemp(join(tmpdir(), "flotilla-render-repo-"));
    await createWorkRepo(repo, await readFilesFrom(FLEET_EXAMPLE));
  });
  afterAll(async () => {
    await rm(repo, { recursive: true, force: true });
  });

  it("prints what a cluster receives at HEAD: each app's most specific layer, apps in name order", async () => {
    const r = await flotilla(["--repo", repo, "--cluster", "prod-us-1"]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^# cluster prod-us-1 \(environment prod\) at revision [0-9a-f]{40}\n/);
    // catalog (envs/prod), platform (plain manifests), storefront (clusters/prod-us-1)
    const expected = [
      ...docs(kubectlKustomize(join(repo, "apps/catalog/envs/prod")).stdout),
      ...(await readdir(join(repo, "apps/platform"))).sort().flatMap((f) => docs(spawnSync("cat", [join(repo, "apps/platform", f)], { encoding: "utf8" }).stdout)),
      ...docs(kubectlKustomize(join(repo, "apps/storefront/clusters/prod-us-1")).stdout),
    ];
    expect(docs(r.stdout)).toEqual(expected);
  });

  it("--app prints one app; a tenant cluster gets the app's cluster overlay", async () => {
    const r = await flotilla(["--repo", repo, "--cluster", "payments-prod", "--app", "payments"]);
    expect(r.status).toBe(0);
    expect(docs(r.stdout)).toEqual(docs(kubectlKustomize(join(repo, "apps/payments/clusters/payments-prod")).stdout));
    const dev = await flotilla(["--repo", repo, "--cluster", "dev-eu-1", "--app", "storefront"]);
    expect(docs(dev.stdout)).toEqual(docs(kubectlKustomize(join(repo, "apps/storefront/envs/dev")).stdout));
  });

  it("shows committed files only, and a new commit as soon as it exists", async () => {
    const file = "apps/catalog/envs/prod/kustomization.yaml";
    const before = await flotilla(["--repo", repo, "--cluster", "prod-eu-1", "--app", "catalog"]);
    await writeFile(join(repo, file), `${K}resources: [../../base]\n`); // not committed
    expect(docs((await flotilla(["--repo", repo, "--cluster", "prod-eu-1", "--app", "catalog"])).stdout)).toEqual(docs(before.stdout));
    const text = (await readFilesFrom(FLEET_EXAMPLE))[file]!;
    await commitFiles(repo, { [file]: text.replace("count: 6", "count: 9") }, "catalog: 9 in prod");
    const after = await flotilla(["--repo", repo, "--cluster", "prod-eu-1", "--app", "catalog"]);
    const api = docs(after.stdout).find((d) => (d as { kind: string }).kind === "Deployment") as { spec: { replicas: number } };
    expect(api.spec.replicas).toBe(9);
  });

  it("names what is wrong on stderr with exit code 1: unknown cluster, app not on the cluster, a policy refusal", async () => {
    const unknown = await flotilla(["--repo", repo, "--cluster", "nope"]);
    expect(unknown).toMatchObject({ status: 1, stdout: "" });
    expect(unknown.stderr).toMatch(/^Error: cluster "nope" is not in flotilla\.yaml \(clusters: dev-eu-1, staging-eu-1, prod-eu-1, prod-us-1, payments-prod\)/);
    const notThere = await flotilla(["--repo", repo, "--cluster", "payments-prod", "--app", "storefront"]);
    expect(notThere.status).toBe(1);
    expect(notThere.stderr).toMatch(/app "storefront" does not run on cluster payments-prod/);

    const file = "apps/storefront/envs/prod/kustomization.yaml";
    const text = (await readFilesFrom(FLEET_EXAMPLE))[file]!;
    await commitFiles(repo, { [file]: text.replace(/digest: sha256:[0-9a-f]+/, 'newTag: "2.4.1"') }, "storefront: tag in prod");
    const refused = await flotilla(["--repo", repo, "--cluster", "prod-eu-1", "--app", "storefront"]);
    expect(refused.status).toBe(1);
    expect(refused.stdout).toBe("");
    expect(refused.stderr).toContain(`Error: ${file}: app storefront: Deployment.apps storefront/storefront uses image "ghcr.io/example/storefront:2.4.1" by tag; environment prod requires digests`);
  });

  it("renders a remote env repo over http(s) with a token (FLOTILLA_REPO_TOKEN) and --branch", async () => {
    const server = await startGitHttpServer({ token: "s3cret" });
    try {
      const url = server.createBareRepo("fleet");
      await pushWorkRepo(repo, url, { token: "s3cret", branch: "main", force: true });
      const r = await flotilla(["--repo", url, "--cluster", "payments-prod", "--branch", "main"], ROOT, { FLOTILLA_REPO_TOKEN: "s3cret" });
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
      expect(docs(r.stdout)).toEqual(docs(kubectlKustomize(join(repo, "apps/payments/clusters/payments-prod")).stdout));
      const refused = await flotilla(["--repo", url, "--cluster", "payments-prod"], ROOT, { FLOTILLA_REPO_TOKEN: "wrong" });
      expect(refused.status).toBe(1);
      expect(refused.stderr).toMatch(/FLOTILLA_ERR_REPO_UNAVAILABLE/);
      expect(refused.stderr).not.toContain("wrong");
    } finally {
      await server.close();
    }
  });
});
