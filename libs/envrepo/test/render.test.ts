import { describe, expect, it } from "vitest";
import { BUNDLE_API_VERSION, ErrorCode, type KubeObject } from "@flotilla/model";
import { fileViewOf, parseFleet, parseManifestFile, renderApp, renderCluster, renderFleet } from "@flotilla/envrepo";

const FLEET = `apiVersion: flotilla.dev/v1alpha1
environments: [{ name: dev }, { name: prod, drift: warn }]
clusters:
  - { name: dev-1, environment: dev }
  - { name: prod-1, environment: prod }
  - { name: tenant-a, environment: prod, namespaces: [team-a] }
apps:
  - { name: shop, path: apps/shop, selector: { clusters: [dev-1, prod-1] } }
  - { name: team, path: apps/team, selector: { clusters: [tenant-a] } }
`;

const NAMESPACE = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n";
const DEPLOYMENT = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: inventory-api
  namespace: shop
spec:
  replicas: 2
  template:
    spec:
      volumes:
        - name: cfg
          configMap: { name: cfg, defaultMode: 0644 }
`;

describe("parseManifestFile", () => {
  it("reads multi-document YAML as YAML 1.1 (0644 is octal) and skips empty documents", () => {
    const r = parseManifestFile(`---\n${NAMESPACE}---\n# nothing here\n---\n${DEPLOYMENT}`, "apps/shop/all.yaml");
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.objects.map((o) => o.kind)).toEqual(["Namespace", "Deployment"]);
    const volumes = ((r.objects[1] as KubeObject & { spec: { template: { spec: { volumes: { configMap: { defaultMode: number } }[] } } } }).spec.template.spec.volumes);
    expect(volumes[0]!.configMap.defaultMode).toBe(0o644);
    expect(r.origins).toEqual([{ file: "apps/shop/all.yaml", line: 2 }, { file: "apps/shop/all.yaml", line: 9 }]);
  });

  it("names file and line of a YAML syntax error", () => {
    const r = parseManifestFile(`${NAMESPACE}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: [1, 2\n`, "apps/shop/cm.yaml");
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors[0]!.code).toBe(ErrorCode.ManifestInvalid);
    expect(r.errors[0]!.message).toMatch(/^apps\/shop\/cm\.yaml:11: invalid YAML: /);
    expect(r.errors[0]!.location?.file).toBe("apps/shop/cm.yaml");
  });

  it("names the object and line when apiVersion, kind or metadata.name is missing", () => {
    const r = parseManifestFile(`${NAMESPACE}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  labels: { a: b }\n---\n- just\n- a list\n`, "apps/shop/x.yml");
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.map((e) => e.message)).toEqual([
      "apps/shop/x.yml:6: ConfigMap has no metadata.name; every manifest needs apiVersion, kind and metadata.name",
      "apps/shop/x.yml:11: document 3 is not a mapping; a manifest is an object with apiVersion, kind and metadata",
    ]);
  });

  it("reads JSON files and expands kind: List", () => {
    const list = JSON.stringify({ apiVersion: "v1", kind: "List", items: [{ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "a" } }, { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "b" } }] });
    const r = parseManifestFile(list, "apps/x/list.json");
    expect(r.ok && r.objects.map((o) => o.metadata.name)).toEqual(["a", "b"]);
  });
});

describe("renderApp / renderCluster", () => {
  const fleet = parseFleet(FLEET);
  const cluster = (n: string) => fleet.clusters.find((c) => c.name === n)!;

  it("renders plain manifests sorted by file name into a bundle with the effective policy", () => {
    const view = fileViewOf({
      "flotilla.yaml": FLEET,
      "apps/shop/20-deployment.yaml": DEPLOYMENT,
      "apps/shop/10-namespace.yml": NAMESPACE,
      "apps/shop/README.md": "not a manifest",
      "apps/shop/sub/ignored.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: sub }\n",
    });
    const app = renderApp(view, fleet, fleet.apps[0]!, cluster("prod-1"));
    expect(app.ok && app.readPaths).toEqual(["apps/shop/10-namespace.yml", "apps/shop/20-deployment.yaml"]);
    const r = renderCluster(view, fleet, cluster("prod-1"), "a".repeat(40));
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.bundle.apiVersion).toBe(BUNDLE_API_VERSION);
    expect(r.bundle.revision).toBe("a".repeat(40));
    expect(r.bundle.namespaces).toBeUndefined();
    expect(r.bundle.apps.map((a) => [a.name, a.policy.drift, a.objects.map((o) => `${o.kind}/${o.metadata.name}`)])).toEqual([
      ["shop", "warn", ["Namespace/shop", "Deployment/inventory-api"]],
    ]);
  });

  it("refuses cluster-scoped kinds and foreign namespaces on a tenant cluster, naming app, file and object", () => {
    const view = fileViewOf({
      "apps/team/a.yaml": `${NAMESPACE}---\napiVersion: v1\nkind: ConfigMap\nmetadata: { name: c, namespace: other }\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: { name: d }\n`,
    });
    const r = renderCluster(view, fleet, cluster("tenant-a"), "b".repeat(40));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors.map((e) => e.message)).toEqual([
      "apps/team/a.yaml:1: app team: Namespace shop is cluster-scoped, but cluster tenant-a is a tenant limited to namespaces team-a; remove it or select the app away from this cluster",
      "apps/team/a.yaml:6: app team: ConfigMap other/c is in namespace other, outside tenant cluster tenant-a's namespaces (team-a)",
    ]);
    expect(r.errors[0]!.code).toBe(ErrorCode.PolicyViolation);
  });

  it("places namespace-less objects in a tenant's only namespace", () => {
    const view = fileViewOf({ "apps/team/a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: d }\n" });
    const r = renderCluster(view, fleet, cluster("tenant-a"), "c".repeat(40));
    expect(r.ok && r.bundle.apps[0]!.objects[0]!.metadata.namespace).toBe("team-a");
    expect(r.ok && r.bundle.namespaces).toEqual(["team-a"]);
  });

  it("reports a missing app directory and an empty one", () => {
    const missing = renderApp(fileViewOf({}), fleet, fleet.apps[0]!, cluster("dev-1"));
    expect(!missing.ok && missing.error.message).toBe('app shop: path "apps/shop" is not a directory at this revision');
    const empty = renderApp(fileViewOf({ "apps/shop/README.md": "x" }), fleet, fleet.apps[0]!, cluster("dev-1"));
    expect(!empty.ok && empty.error.message).toMatch(/holds no manifests/);
  });

  it("uses the most specific kustomization directory through the overlay seam", () => {
    const view = fileViewOf({
      "apps/shop/base/kustomization.yaml": "resources: [ns.yaml]\n",
      "apps/shop/base/ns.yaml": NAMESPACE,
      "apps/shop/envs/prod/kustomization.yaml": "resources: [../../base]\n",
    });
    const dirs: string[] = [];
    const renderKustomization = (_v: unknown, dir: string) => {
      dirs.push(dir);
      return { ok: true, objects: [{ apiVersion: "v1", kind: "Namespace", metadata: { name: dir.split("/").pop()! } }], readPaths: [`${dir}/kustomization.yaml`] };
    };
    const prod = renderApp(view, fleet, fleet.apps[0]!, cluster("prod-1"), { renderKustomization });
    const dev = renderApp(view, fleet, fleet.apps[0]!, cluster("dev-1"), { renderKustomization });
    expect(dirs).toEqual(["apps/shop/envs/prod", "apps/shop/base"]);
    expect(prod.ok && prod.readPaths).toEqual(["apps/shop/envs/prod/kustomization.yaml"]);
    expect(dev.ok && dev.objects[0]!.metadata.name).toBe("base");
    const failing = renderApp(view, fleet, fleet.apps[0]!, cluster("dev-1"), {
      renderKustomization: () => ({ ok: false, error: { code: ErrorCode.KustomizationUnsupported, message: "apps/shop/base/kustomization.yaml: helmCharts is not supported" } }),
    });
    expect(!failing.ok && failing.error).toEqual({ code: ErrorCode.KustomizationUnsupported, message: "app shop: apps/shop/base/kustomization.yaml: helmCharts is not supported" });
  });

  it("renderFleet reports an error shared by several clusters once", () => {
    const view = fileViewOf({ "apps/shop/a.yaml": "kind: [", "apps/team/a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: d }\n" });
    const r = renderFleet(view, fleet, "d".repeat(40));
    expect(r.ok).toBe(false);
    expect(!r.ok && r.errors.length).toBe(1);
    expect(!r.ok && r.errors[0]!.message).toMatch(/^app shop: apps\/shop\/a\.yaml:1: invalid YAML/);
  });

  it("refuses one object rendered by two apps on the same cluster", () => {
    const two = parseFleet(FLEET.replace("selector: { clusters: [tenant-a] }", "selector: { clusters: [dev-1] }"));
    const cm = "apiVersion: v1\nkind: ConfigMap\nmetadata: { name: same, namespace: x }\n";
    const r = renderCluster(fileViewOf({ "apps/shop/a.yaml": cm, "apps/team/b.yaml": cm }), two, two.clusters[0]!, "e".repeat(40));
    expect(!r.ok && r.errors[0]!.message).toBe("apps/team/b.yaml:1: app team: ConfigMap x/same is also rendered by app shop on cluster dev-1; an object belongs to one app");
  });
});

describe("environment checks", () => {
  const fleet = parseFleet(`apiVersion: flotilla.dev/v1alpha1
environments:
  - { name: dev, secrets: warn }
  - { name: prod, requireDigests: true, secrets: refuse }
clusters: [{ name: dev-1, environment: dev }, { name: prod-1, environment: prod }]
apps: [{ name: shop, path: apps/shop }]
`);
  const digest = `sha256:${"1".repeat(64)}`;
  const view = fileViewOf({
    "apps/shop/a.yaml": `${DEPLOYMENT.replace("  replicas: 2\n", `  replicas: 2\n`).replace("    spec:\n", `    spec:\n      initContainers: [{ name: init, image: "busybox@${digest}" }]\n      containers: [{ name: api, image: nginx:1.27 }]\n`)}---\napiVersion: v1\nkind: Secret\nmetadata: { name: pw, namespace: shop }\nstringData: { pw: hunter2 }\n`,
  });

  it("refuses images by tag and plaintext Secrets where the environment says so", () => {
    const r = renderCluster(view, fleet, fleet.clusters[1]!, "f".repeat(40));
    expect(!r.ok && r.errors.map((e) => e.message)).toEqual([
      'apps/shop/a.yaml:11: app shop: Deployment.apps shop/inventory-api uses image "nginx:1.27" by tag; environment prod requires digests (image@sha256:…)',
      "apps/shop/a.yaml:16: app shop: Secret shop/pw is a plaintext Secret in Git; environment prod refuses them: use a sealed or external secret",
    ]);
  });

  it("only warns where the environment says warn", () => {
    const r = renderCluster(view, fleet, fleet.clusters[0]!, "f".repeat(40));
    expect(r.ok).toBe(true);
    expect(r.warnings.map((w) => w.message)).toEqual(["apps/shop/a.yaml:16: app shop: Secret shop/pw is a plaintext Secret in Git; environment dev warns about them"]);
  });
});

describe("kustomize trees through @flotilla/overlays", () => {
  const fleet = parseFleet(FLEET);
  const cluster = (n: string) => fleet.clusters.find((c) => c.name === n)!;
  const files = {
    "apps/shop/base/kustomization.yaml": "resources: [namespace.yaml, deployment.yaml]\n",
    "apps/shop/base/namespace.yaml": NAMESPACE,
    "apps/shop/base/deployment.yaml": "apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: inventory-api, namespace: shop }\nspec:\n  replicas: 2\n  template:\n    spec:\n      containers: [{ name: api, image: nginx:1.27 }]\n",
    "apps/shop/envs/prod/kustomization.yaml": "resources: [../../base]\nreplicas: [{ name: inventory-api, count: 4 }]\nimages: [{ name: nginx, newTag: \"1.28\" }]\n",
  };

  it("renders the environment overlay for prod and the base elsewhere", () => {
    const view = fileViewOf(files);
    const prod = renderCluster(view, fleet, cluster("prod-1"), "1".repeat(40));
    const dev = renderCluster(view, fleet, cluster("dev-1"), "1".repeat(40));
    const deployment = (r: typeof prod) => (r.ok ? (r.bundle.apps[0]!.objects.find((o) => o.kind === "Deployment") as KubeObject & { spec: { replicas: number; template: { spec: { containers: { image: string }[] } } } }) : undefined);
    expect(deployment(prod)?.spec.replicas).toBe(4);
    expect(deployment(prod)?.spec.template.spec.containers[0]!.image).toBe("nginx:1.28");
    expect(deployment(dev)?.spec.replicas).toBe(2);
    expect(prod.ok && prod.readPaths).toContain("apps/shop/envs/prod/kustomization.yaml");
    expect(prod.ok && prod.readPaths).toContain("apps/shop/base/deployment.yaml");
  });

  it("reports an overlay error with the app and the file", () => {
    const view = fileViewOf({ ...files, "apps/shop/envs/prod/kustomization.yaml": "resources: [../../base, missing.yaml]\n" });
    const r = renderCluster(view, fleet, cluster("prod-1"), "2".repeat(40));
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.errors[0]!.message).toMatch(/^app shop: apps\/shop\/envs\/prod\/kustomization\.yaml/);
    expect(r.errors[0]!.message).toContain("missing.yaml");
    expect(r.errors[0]!.location?.file).toBe("apps/shop/envs/prod/kustomization.yaml");
  });
});
