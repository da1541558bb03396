// The SRE client's read views against a real hub: the drift ledger (filters, pages, --all),
// a cluster's pointer history and provenance, each as a table and as the API's body.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ClusterSummaryBody, DriftEventBody } from "@flotilla/hub";
import { commitFiles } from "@flotilla/envrepo/testing";
import { waitFor } from "@flotilla/testkit";
import { ago, driftReport, flotilla, heartbeatReport, startFleetHub, statusReport, type FleetHub } from "./fleet-hub.js";

let fleet: FleetHub;
let first: NonNullable<ClusterSummaryBody["desired"]>;
let second: NonNullable<ClusterSummaryBody["desired"]>;

const desiredOf = async (name: string) => (await fleet.api<ClusterSummaryBody[]>("/v1/clusters")).body.find((c) => c.name === name)?.desired ?? undefined;

beforeAll(async () => {
  fleet = await startFleetHub("clildg");
  first = (await desiredOf("dev-1"))!;
  // A second commit: every cluster gets a second pointer.
  const file = "apps/shop/10-inventory-api.yaml";
  const text = await readFile(join(fleet.repoDir, file), "utf8");
  await commitFiles(fleet.repoDir, { [file]: text.replace("replicas: 2", "replicas: 3") }, "shop: 3 replicas\n\nMore capacity for the sale.");
  const refresh = await fleet.call<{ published: number }>("POST", "/v1/refresh", "operator");
  expect(refresh.status).toBe(200);
  second = await waitFor(async () => {
    const d = await desiredOf("dev-1");
    return d && d.generation > first.generation ? d : undefined;
  }, { what: "dev-1's second pointer" });
  fleet.publish(statusReport("dev-1", second, ago(600)));
  fleet.publish(heartbeatReport("dev-1", second.generation, ago(1), 86_400));
  fleet.publish(driftReport("dev-1", second, ago(300), { paths: [{ path: "/spec/replicas", desired: 3, live: 5 }] }));
  fleet.publish(driftReport("dev-1", second, ago(200), { object: { group: "", kind: "ConfigMap", namespace: "shop", name: "cfg" }, paths: [{ path: "/data/mode", desired: "a", live: "b" }], actor: "kubectl-edit" }));
  fleet.publish(driftReport("dev-1", second, ago(100), { object: { group: "", kind: "Service", namespace: "shop", name: "web" }, paths: [{ path: "/spec/type", desired: "ClusterIP", live: "NodePort" }], actor: "helm", policy: "enforce", action: "reverted" }));
  await waitFor(async () => (await fleet.api<DriftEventBody[]>("/v1/drift")).body.length === 3, { what: "three drift events ingested" });
}, 120_000);

afterAll(async () => {
  await fleet?.stop();
});

describe("flotilla drift", () => {
  it("prints the ledger newest first, one change per row", async () => {
    const r = await flotilla(["drift", "--cluster", "dev-1"], fleet.env("viewer"));
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^DETECTED +CLUSTER +APP +OBJECT +CHANGES +ACTOR +POLICY +ACTION +STATE$/);
    expect(lines.slice(1).map((l) => l.replace(/^\S+ +/, "").split(/ {2,}/))).toEqual([
      ["dev-1", "shop", "Service/shop/web", '/spec/type "ClusterIP"→"NodePort"', "helm", "enforce", "reverted", "closed"],
      ["dev-1", "shop", "ConfigMap/shop/cfg", '/data/mode "a"→"b"', "kubectl-edit", "warn", "left", "open"],
      ["dev-1", "shop", "Deployment/shop/inventory-api", "/spec/replicas 3→5", "kubectl-scale", "warn", "left", "open"],
    ]);
    expect(lines[1]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ /);
  });

  it("prints -o json as the API answers, and passes the filters through", async () => {
    const all = await flotilla(["drift", "-o", "json"], fleet.env("viewer"));
    expect(JSON.parse(all.stdout)).toEqual((await fleet.api<unknown>("/v1/drift")).body);
    const edits = await flotilla(["drift", "--actor", "kubectl-edit", "--state", "open", "--app", "shop", "--environment", "dev", "--kind", "ConfigMap", "--namespace", "shop", "-o", "json"], fleet.env("viewer"));
    expect(edits.status, edits.stderr).toBe(0);
    expect(JSON.parse(edits.stdout).map((e: DriftEventBody) => e.object.name)).toEqual(["cfg"]);
    const closed = await flotilla(["drift", "--state", "closed", "--action", "reverted", "--since", "1h", "-o", "json"], fleet.env("viewer"));
    expect(JSON.parse(closed.stdout).map((e: DriftEventBody) => e.object.name)).toEqual(["web"]);
    const future = await flotilla(["drift", "--since", new Date(Date.now() + 3_600_000).toISOString(), "-o", "json"], fleet.env("viewer"));
    expect(JSON.parse(future.stdout)).toEqual([]);
  });

  it("says there is more after a full page, and follows the cursor to the end with --all", async () => {
    const page = await flotilla(["drift", "--limit", "1", "-o", "json"], fleet.env("viewer"));
    expect(JSON.parse(page.stdout)).toHaveLength(1);
    const cursor = /--cursor (\S+)\)/.exec(page.stderr)?.[1];
    expect(cursor, page.stderr).toBeDefined();
    const next = await flotilla(["drift", "--limit", "1", "--cursor", cursor!, "-o", "json"], fleet.env("viewer"));
    expect(JSON.parse(next.stdout)).toEqual((await fleet.api<unknown[]>(`/v1/drift?limit=1&cursor=${encodeURIComponent(cursor!)}`)).body);
    const all = await flotilla(["drift", "--limit", "1", "--all", "-o", "json"], fleet.env("viewer"));
    expect(all.status, all.stderr).toBe(0);
    expect(all.stderr).toBe("");
    expect(JSON.parse(all.stdout)).toEqual((await fleet.api<unknown>("/v1/drift")).body);
  });

  it("exits 2 with the API's field for a value it refuses", async () => {
    const r = await flotilla(["drift", "--since", "yesterday"], fleet.env("viewer"));
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('flotilla drift: FLOTILLA_ERR_BAD_REQUEST: since: "yesterday" is not an ISO-8601 timestamp');
    const action = await flotilla(["drift", "--action", "fixed"], fleet.env("viewer"));
    expect(action.status).toBe(2);
    expect(action.stderr).toContain("(field action)");
  });
});

describe("flotilla history", () => {
  it("lists the cluster's pointers newest first with their commits", async () => {
    const r = await flotilla(["history", "dev-1"], fleet.env("viewer"));
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^GEN +REVISION +BUNDLE +ISSUED +AUTHOR +SUBJECT$/);
    expect(lines[1]).toMatch(new RegExp(`^${second.generation} +${second.revision.slice(0, 7)} +${second.bundleDigest.slice(7, 19)} +\\S+Z +Test Author +shop: 3 replicas$`));
    expect(lines[2]).toMatch(new RegExp(`^${first.generation} +${first.revision.slice(0, 7)} +[0-9a-f]{12} +\\S+Z +Test Author +Initial env repo$`));
    expect(lines).toHaveLength(3);
    const json = await flotilla(["history", "dev-1", "-o", "json"], fleet.env("viewer"));
    expect(JSON.parse(json.stdout)).toEqual((await fleet.api<unknown>("/v1/clusters/dev-1/pointers")).body);
    const older = await flotilla(["history", "dev-1", "--before", String(second.generation), "-o", "json"], fleet.env("viewer"));
    expect(JSON.parse(older.stdout).pointers.map((p: { generation: number }) => p.generation)).toEqual([first.generation]);
  });

  it("exits 3 for an unknown cluster and 2 without one", async () => {
    const r = await flotilla(["history", "nope-1"], fleet.env("viewer"));
    expect(r.status).toBe(3);
    expect(r.stderr).toContain("FLOTILLA_ERR_NOT_FOUND: cluster nope-1 is not in the fleet");
    const none = await flotilla(["history"], fleet.env("viewer"));
    expect(none.status).toBe(2);
    expect(none.stderr).toContain("flotilla history: missing CLUSTER");
  });
});

describe("flotilla provenance", () => {
  it("shows per cluster the revision, commit author and agent, and each object's images", async () => {
    const r = await flotilla(["provenance", "shop"], fleet.env("viewer"));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^CLUSTER +ENVIRONMENT +REVISION +GEN +AUTHOR +SYNC +HEALTH +RELEASE +PROMOTION +AGENT +REPORTED$/m);
    expect(r.stdout).toMatch(new RegExp(`^dev-1 +dev +${second.revision.slice(0, 7)} +${second.generation} +Test Author +Synced +Healthy +- +- +dev-1/agent-0/1 +\\d+m ago$`, "m"));
    expect(r.stdout).toMatch(/^prod-1 +prod +\S+ +\d+ +Test Author +Unknown +Unknown +- +- +- +never$/m);
    expect(r.stdout).toMatch(/^dev-1 +Deployment\/shop\/inventory-api +configured +Healthy +\d+ +\d+m ago +ghcr\.io\/acme\/shop@sha256:c{64}$/m);
    const json = await flotilla(["provenance", "--app", "shop", "--cluster", "dev-1", "--kind", "Deployment", "-o", "json"], fleet.env("viewer"));
    expect(JSON.parse(json.stdout)).toEqual((await fleet.api<unknown>("/v1/provenance?app=shop&cluster=dev-1&kind=Deployment")).body);
  });

  it("exits 3 for an app that is not in the fleet and 2 without an app", async () => {
    const r = await flotilla(["provenance", "--app", "nope"], fleet.env("viewer"));
    expect(r.status).toBe(3);
    const none = await flotilla(["provenance"], fleet.env("viewer"));
    expect(none.status).toBe(2);
    expect(none.stderr).toContain("--app is required");
  });
});
