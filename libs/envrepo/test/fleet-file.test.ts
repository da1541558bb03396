import { describe, expect, it } from "vitest";
import { ErrorCode, FleetFileError } from "@flotilla/model";
import { appsForCluster, effectivePolicy, parseFleet, readFleet } from "@flotilla/envrepo";

const GOOD = `apiVersion: flotilla.dev/v1alpha1
environments:
  - name: dev
    drift: warn
  - name: stage
  - name: prod
    prune: false
    ignore:
      - kind: Deployment
        paths: ["/spec/replicas"]
clusters:
  - name: dev-1
    environment: dev
    labels: { region: eu }
  - name: prod-1
    environment: prod
    labels: { region: us }
  - name: tenant-a
    environment: prod
    namespaces: [team-a]
apps:
  - name: shop
    path: ./apps/shop/
  - name: metrics
    path: apps/metrics
    drift: observe
    selector:
      matchLabels: { region: eu }
  - name: billing
    path: apps/billing
    selector: { environments: [prod], clusters: [prod-1] }
    ignore:
      - paths: ["/metadata/annotations/x"]
`;

/** The first error of a fleet file that must not parse. */
function firstError(text: string): FleetFileError {
  const r = readFleet(text);
  if (r.ok) throw new Error("expected the fleet file to be refused");
  return r.errors[0]!;
}

describe("parseFleet", () => {
  it("reads environments, clusters and apps with their policies", () => {
    const fleet = parseFleet(GOOD);
    expect(fleet.environments.map((e) => e.name)).toEqual(["dev", "stage", "prod"]);
    expect(fleet.clusters[2]).toEqual({ name: "tenant-a", environment: "prod", labels: {}, namespaces: ["team-a"] });
    expect(fleet.apps[0]!.path).toBe("apps/shop");
    expect(fleet.apps[2]!.selector).toEqual({ environments: ["prod"], clusters: ["prod-1"] });
  });

  it("names file, line and field when a cluster's environment is unknown", () => {
    const text = GOOD.replace("    environment: prod\n    labels: { region: us }", "    environment: staging\n    labels: { region: us }");
    const err = firstError(text);
    expect(err).toBeInstanceOf(FleetFileError);
    expect(err.code).toBe(ErrorCode.FleetFileInvalid);
    const line = text.split("\n").findIndex((l) => l.includes("staging")) + 1;
    expect(err.message).toBe(`flotilla.yaml:${line}: clusters[1].environment "staging" is not one of the environments (dev, stage, prod)`);
    expect(err.location).toEqual({ file: "flotilla.yaml", line, field: "clusters[1].environment" });
  });

  it("reports YAML syntax errors with the line", () => {
    const text = "apiVersion: flotilla.dev/v1alpha1\nenvironments:\n  - name: dev\n    drift: [enforce\nclusters: []\n";
    const err = firstError(text);
    expect(err.message).toMatch(/^flotilla\.yaml:\d+: invalid YAML: /);
    expect(err.location?.line).toBeGreaterThanOrEqual(4);
  });

  it("refuses unknown fields at the key's line, and collects every error", () => {
    const text = GOOD.replace("    drift: observe\n", "    drift: observe\n    driftt: warn\n").replace("- name: stage", "- name: Stage");
    const r = readFleet(text, "fleet/flotilla.yaml");
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const messages = r.errors.map((e) => e.message);
    const keyLine = text.split("\n").findIndex((l) => l.includes("driftt")) + 1;
    expect(messages).toContain(`fleet/flotilla.yaml:${keyLine}: apps[1].driftt is not a known field; expected one of name, path, selector, drift, prune, ignore`);
    expect(messages.some((m) => m.includes('environments[1].name "Stage" is not a DNS label'))).toBe(true);
  });

  it("refuses duplicate names, wrong apiVersion, bad policies, unknown selector targets and paths that leave the repo", () => {
    const cases: [string, RegExp][] = [
      [GOOD.replace("- name: prod-1", "- name: dev-1"), /clusters\[1\]\.name "dev-1" is already used by clusters\[0\]/],
      [GOOD.replace("flotilla.dev/v1alpha1", "flotilla.dev/v2"), /apiVersion must be "flotilla\.dev\/v1alpha1" \(found "flotilla\.dev\/v2"\)/],
      [GOOD.replace("drift: warn", "drift: revert"), /environments\[0\]\.drift "revert" is not one of enforce, warn, observe/],
      [GOOD.replace("clusters: [prod-1]", "clusters: [prod-9]"), /apps\[2\]\.selector\.clusters\[0\] "prod-9" is not one of the clusters/],
      [GOOD.replace("path: apps/metrics", "path: ../outside"), /apps\[1\]\.path "\.\.\/outside" leaves the repository/],
      [GOOD.replace("region: eu }\n  - name: prod-1", "region: yes }\n  - name: prod-1"), /clusters\[0\]\.labels\.region true must be a string; quote it/],
      [GOOD.replace('paths: ["/spec/replicas"]', 'paths: ["spec.replicas"]'), /environments\[2\]\.ignore\[0\]\.paths\[0\] "spec\.replicas" is not a JSON pointer/],
      [GOOD.replace("prune: false", "prune: maybe"), /environments\[2\]\.prune "maybe" must be true or false/],
      ["", /flotilla\.yaml: is empty/],
    ];
    for (const [text, expected] of cases) expect(firstError(text).message).toMatch(expected);
  });

  it("reads YAML 1.1 booleans like Kubernetes does", () => {
    const fleet = parseFleet(GOOD.replace("prune: false", "prune: off"));
    expect(fleet.environments[2]!.prune).toBe(false);
  });
});

describe("effectivePolicy and appsForCluster", () => {
  const fleet = parseFleet(GOOD);
  const cluster = (name: string) => fleet.clusters.find((c) => c.name === name)!;
  const app = (name: string) => fleet.apps.find((a) => a.name === name)!;

  it("app overrides environment overrides the defaults (enforce, prune)", () => {
    expect(effectivePolicy(fleet, app("shop"), cluster("dev-1"))).toEqual({ drift: "warn", prune: true, ignore: [] });
    expect(effectivePolicy(fleet, app("metrics"), cluster("dev-1"))).toEqual({ drift: "observe", prune: true, ignore: [] });
    expect(effectivePolicy(fleet, app("billing"), cluster("prod-1"))).toEqual({
      drift: "enforce",
      prune: false,
      ignore: [{ kind: "Deployment", paths: ["/spec/replicas"] }, { paths: ["/metadata/annotations/x"] }],
    });
  });

  it("selects apps by labels, environments and cluster names, sorted by name", () => {
    expect(appsForCluster(fleet, cluster("dev-1")).map((a) => a.name)).toEqual(["metrics", "shop"]);
    expect(appsForCluster(fleet, cluster("prod-1")).map((a) => a.name)).toEqual(["billing", "shop"]);
    expect(appsForCluster(fleet, cluster("tenant-a")).map((a) => a.name)).toEqual(["shop"]);
  });
});
