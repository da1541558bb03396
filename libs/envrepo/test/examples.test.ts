// The example env repos under examples/ render for every cluster, without errors or warnings.
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { fileViewOf, parseFleet, renderFleet } from "@flotilla/envrepo";
import { readFilesFrom } from "@flotilla/envrepo/testing";

async function renderExample(name: string) {
  const view = fileViewOf(await readFilesFrom(fileURLToPath(new URL(`../../../examples/${name}`, import.meta.url))));
  const fleet = parseFleet(new TextDecoder().decode(view.readFile("flotilla.yaml")!));
  return renderFleet(view, fleet, "0".repeat(40));
}

describe("examples", () => {
  it("env-repo: shop on dev-1 and prod-1 (the demo's Namespace and 2-replica Deployment)", async () => {
    const r = await renderExample("env-repo");
    expect(r).toMatchObject({ ok: true, warnings: [] });
    if (!r.ok) return;
    for (const b of r.bundles) {
      const objects = b.apps.flatMap((a) => a.objects);
      expect(objects.map((o) => `${o.kind}/${o.metadata.namespace ?? ""}/${o.metadata.name}`)).toEqual(["Namespace//shop", "Deployment/shop/inventory-api"]);
      expect((objects[1] as unknown as { spec: { replicas: number } }).spec.replicas).toBe(2);
    }
  });

  it("fleet-kustomize: every cluster renders its apps from the expected layer, policies pass", async () => {
    const r = await renderExample("fleet-kustomize");
    expect(r.ok ? [] : r.errors.map((e) => e.message)).toEqual([]);
    expect(r.warnings).toEqual([]);
    if (!r.ok) return;
    const apps = Object.fromEntries(r.bundles.map((b) => [b.cluster, b.apps.map((a) => `${a.name}:${a.objects.length}`)]));
    expect(apps).toEqual({
      // catalog: ConfigMap, Service, Deployment, CronJob; payments: + ServiceAccount, Role, RoleBinding
      // − CronJob; platform: 3 Namespaces + ClusterRole; storefront: ConfigMap, Service, Deployment,
      // HPA, and in prod a PodDisruptionBudget.
      "dev-eu-1": ["catalog:4", "payments:6", "platform:4", "storefront:4"],
      "staging-eu-1": ["catalog:4", "platform:4", "storefront:4"],
      "prod-eu-1": ["catalog:4", "platform:4", "storefront:5"],
      "prod-us-1": ["catalog:4", "platform:4", "storefront:5"],
      "payments-prod": ["payments:6"],
    });
    const tenant = r.bundles.find((b) => b.cluster === "payments-prod")!;
    expect(tenant.namespaces).toEqual(["payments"]);
    expect(new Set(tenant.apps[0]!.objects.map((o) => o.metadata.namespace))).toEqual(new Set(["payments"]));
  });
});
