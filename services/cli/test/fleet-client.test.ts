// The SRE client against a real hub: connection (flags, environment, contexts), status, explain,
// -o json/yaml equal to the API's body, and exit codes for not found and unauthorized.
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { createServer, type AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import type { ClusterDetailBody, ClusterSummaryBody } from "@flotilla/hub";
import { waitFor } from "@flotilla/testkit";
import { ago, driftReport, flotilla, heartbeatReport, people, startFleetHub, statusReport, type FleetHub } from "./fleet-hub.js";

let fleet: FleetHub;
let dev1: NonNullable<ClusterSummaryBody["desired"]>;

beforeAll(async () => {
  fleet = await startFleetHub("cliclient");
  const clusters = (await fleet.api<ClusterSummaryBody[]>("/v1/clusters")).body;
  dev1 = clusters.find((c) => c.name === "dev-1")!.desired!;
  // dev-1: an agent applied the current pointer three hours ago and is still alive (its deadline is
  // a day, so the ages below are stable); then someone scaled the deployment by hand.
  fleet.publish(statusReport("dev-1", dev1, ago(3 * 3600 + 60)));
  fleet.publish(heartbeatReport("dev-1", dev1.generation, ago(3 * 3600), 86_400));
  fleet.publish(driftReport("dev-1", dev1, ago(3 * 3600 - 30)));
  await waitFor(async () => {
    const c = (await fleet.api<ClusterSummaryBody[]>("/v1/clusters")).body.find((x) => x.name === "dev-1");
    return c?.syncState === "Synced" && c.lastHeartbeat !== null && c.openDriftCount === 1;
  }, { what: "dev-1's reports ingested" });
}, 120_000);

afterAll(async () => {
  await fleet?.stop();
});

/** Ages and commit ids vary from run to run; the same-width placeholders keep the columns aligned. */
function normalize(text: string): string {
  return text.replaceAll(dev1.revision.slice(0, 7), "REVISIO");
}

describe("flotilla status", () => {
  it("prints the fleet as an aligned table", async () => {
    const r = await flotilla(["status"], fleet.env("viewer"));
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(normalize(r.stdout)).toBe(
      [
        "NAME    ENVIRONMENT  SYNC     HEALTH   REVISION  GEN  OBSERVED  DRIFT  HEARTBEAT",
        "dev-1   dev          Synced   Healthy  REVISIO   1    REVISIO   1      3h ago",
        "prod-1  prod         Unknown  Unknown  REVISIO   1    -         0      never",
        "",
      ].join("\n"),
    );
  });

  it("prints -o json and -o yaml exactly as the API answers", async () => {
    const api = await fleet.api<unknown>("/v1/clusters");
    const json = await flotilla(["status", "-o", "json"], fleet.env("viewer"));
    expect(json.status, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual(api.body);
    const yaml = await flotilla(["status", "--output=yaml"], fleet.env("viewer"));
    expect(parseYaml(yaml.stdout)).toEqual(api.body);
    const one = await flotilla(["status", "dev-1", "-ojson"], fleet.env("viewer"));
    expect(JSON.parse(one.stdout)).toEqual((await fleet.api<ClusterDetailBody>("/v1/clusters/dev-1")).body);
    const matrix = await flotilla(["status", "--matrix", "-o", "json"], fleet.env("viewer"));
    expect(JSON.parse(matrix.stdout)).toEqual((await fleet.api<unknown>("/v1/fleet/matrix")).body);
  });

  it("shows one cluster in detail with its apps and objects", async () => {
    const r = await flotilla(["status", "dev-1"], fleet.env("viewer"));
    expect(r.status, r.stderr).toBe(0);
    const out = normalize(r.stdout);
    expect(out).toMatch(/^Cluster: +dev-1$/m);
    expect(out).toMatch(/^Sync: +Synced$/m);
    expect(out).toMatch(/^Desired: +REVISIO generation 1, bundle [0-9a-f]{12}, issued \d+s ago$/m);
    expect(out).toMatch(/^Heartbeat: +3h ago \(deadline 86400s\) from dev-1\/agent-0\/1$/m);
    expect(out).toMatch(/^Open drift: +1$/m);
    expect(out).toMatch(/^APP +HEALTH +GEN +OBJECTS +UPDATED$/m);
    expect(out).toMatch(/^shop +Deployment\.apps +shop +inventory-api +configured +Healthy +ghcr\.io\/acme\/shop@sha256:c{64}$/m);
  });

  it("prints the matrix of environments, clusters and apps", async () => {
    const r = await flotilla(["status", "--matrix"], fleet.env("viewer"));
    expect(r.status, r.stderr).toBe(0);
    expect(normalize(r.stdout)).toMatch(/^ENVIRONMENT +CLUSTER +SYNC +HEALTH +REVISION +DRIFT +HEARTBEAT +APPS$/m);
    expect(normalize(r.stdout)).toMatch(/^dev +dev-1 +Synced +Healthy +REVISIO +1 +3h ago +shop=Healthy$/m);
    expect(normalize(r.stdout)).toMatch(/^prod +prod-1 +Unknown +Unknown +REVISIO +0 +never +shop=Unknown$/m);
  });

  it("exits 3 for a cluster that is not in the fleet, with the API's code and message", async () => {
    const r = await flotilla(["status", "nope-1"], fleet.env("viewer"));
    expect(r.status).toBe(3);
    expect(r.stderr).toContain('flotilla status: FLOTILLA_ERR_NOT_FOUND: cluster "nope-1" is not in the fleet');
  });

  it("logs each request as a pino JSON line on stderr at --log-level debug, with one trace id per invocation", async () => {
    const r = await flotilla(["status", "--log-level", "debug"], fleet.env("viewer"));
    expect(r.status, r.stderr).toBe(0);
    const plain = await flotilla(["status"], fleet.env("viewer"));
    expect(normalize(r.stdout)).toBe(normalize(plain.stdout)); // logs never reach stdout
    const lines = r.stderr.trim().split("\n").map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.length).toBeGreaterThan(0);
    const request = lines.find((l) => l.msg === "request" && l.path === "/v1/clusters");
    expect(request, r.stderr).toMatchObject({ level: "debug", component: "cli", command: "status", method: "GET", status: 200 });
    expect(typeof request!.ms).toBe("number");
    expect(request!.trace_id).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set(lines.map((l) => l.trace_id)).size).toBe(1);
    // Another invocation, another trace; a refused call names its code; FLOTILLA_LOG_LEVEL works too.
    const missing = await flotilla(["status", "nope-1"], fleet.env("viewer", { FLOTILLA_LOG_LEVEL: "debug" }));
    expect(missing.status).toBe(3);
    const refused = missing.stderr
      .split("\n")
      .filter((l) => l.startsWith("{"))
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.msg === "request refused");
    expect(refused, missing.stderr).toMatchObject({ status: 404, code: "FLOTILLA_ERR_NOT_FOUND", command: "status" });
    expect(refused!.trace_id).not.toBe(request!.trace_id);
    expect(missing.stderr).toContain('flotilla status: FLOTILLA_ERR_NOT_FOUND: cluster "nope-1" is not in the fleet');
    const bad = await flotilla(["status", "--log-level", "loud"], fleet.env("viewer"));
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("--log-level loud (or FLOTILLA_LOG_LEVEL): expected one of");
  });

  it("exits 4 for a token the hub does not know", async () => {
    const r = await flotilla(["status"], fleet.env("viewer", { FLOTILLA_TOKEN: `flt_${"x".repeat(43)}` }));
    expect(r.status).toBe(4);
    expect(r.stderr).toContain("flotilla status: FLOTILLA_ERR_UNAUTHORIZED:");
  });

  it("exits 2 naming what is missing when there is no hub or no token", async () => {
    const noHub = await flotilla(["status"], { HOME: fleet.home });
    expect(noHub.status).toBe(2);
    expect(noHub.stderr).toContain("no hub to talk to: give --hub URL (or FLOTILLA_HUB_URL), or a context in");
    const noToken = await flotilla(["status", "--hub", fleet.hub.url], { HOME: fleet.home });
    expect(noToken.status).toBe(2);
    expect(noToken.stderr).toContain(`no API token for ${fleet.hub.url}: give --token TOKEN (or FLOTILLA_TOKEN)`);
    const badOutput = await flotilla(["status", "-o", "xml"], fleet.env("viewer"));
    expect(badOutput.status).toBe(2);
    expect(badOutput.stderr).toContain('-o/--output "xml": use table, json or yaml');
  });

  it("exits 1 when the hub cannot be reached", async () => {
    const closed = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, "127.0.0.1", () => {
        const { port } = s.address() as AddressInfo;
        s.close(() => resolve(port));
      });
    });
    const r = await flotilla(["status", "--hub", `http://127.0.0.1:${closed}`, "--token", people.viewer.token], { HOME: fleet.home });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`flotilla status: cannot reach the hub at http://127.0.0.1:${closed} (ECONNREFUSED)`);
  });
});

describe("flotilla explain", () => {
  it("says why a cluster runs an app, finding by finding", async () => {
    const r = await flotilla(["explain", "--cluster", "dev-1", "--app", "shop"], fleet.env("viewer"));
    expect(r.status, r.stderr).toBe(0);
    const out = normalize(r.stdout);
    expect(out.split("\n")[0]).toBe("shop on dev-1 at REVISIO: running it");
    expect(out).toMatch(/^REASON +MESSAGE$/m);
    expect(out).toMatch(/^AtRevision +/m);
    expect(out).toMatch(/^DriftOpen +/m);
    const json = await flotilla(["explain", "--cluster", "dev-1", "--app", "shop", "-o", "json"], fleet.env("viewer"));
    expect(JSON.parse(json.stdout)).toEqual((await fleet.api<unknown>("/v1/explain?cluster=dev-1&app=shop")).body);
  });

  it("exits 3 for an unknown app and 2 without --app", async () => {
    const unknown = await flotilla(["explain", "--cluster", "dev-1", "--app", "nope"], fleet.env("viewer"));
    expect(unknown.status).toBe(3);
    expect(unknown.stderr).toContain("FLOTILLA_ERR_NOT_FOUND: app nope is not in flotilla.yaml");
    const missing = await flotilla(["explain", "--cluster", "dev-1"], fleet.env("viewer"));
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain("--app is required");
    const badRevision = await flotilla(["explain", "--cluster", "dev-1", "--app", "shop", "--revision", "abc"], fleet.env("viewer"));
    expect(badRevision.status).toBe(2);
    expect(badRevision.stderr).toContain("FLOTILLA_ERR_BAD_REQUEST: revision: a full 40-hex commit id (field revision)");
  });
});

describe("contexts", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "cli-contexts-"));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("reads the hub and a token file from the current context of a config file", async () => {
    const config = join(dir, "config.yaml");
    await writeFile(join(dir, "vic.token"), `${people.viewer.token}\n`);
    await writeFile(
      config,
      ["current-context: fleet", "contexts:", `  - name: fleet`, `    hub: ${fleet.hub.url}`, "    tokenFile: vic.token", `  - name: stale`, `    hub: ${fleet.hub.url}`, `    token: flt_${"y".repeat(43)}`, ""].join("\n"),
    );
    const env = { HOME: fleet.home, FLOTILLA_CONFIG: config };
    const ok = await flotilla(["status", "-o", "json"], env);
    expect(ok.status, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toEqual((await fleet.api<unknown>("/v1/clusters")).body);
    const stale = await flotilla(["status", "--context", "stale"], env);
    expect(stale.status).toBe(4);
    expect(stale.stderr).toContain('the hub did not accept the token of context "stale"');
    const unknown = await flotilla(["status", "--context", "nope"], env);
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain(`context "nope" is not in ${config} (contexts: fleet, stale)`);
    // A flag beats the context.
    const flag = await flotilla(["status", "--context", "stale", "--token", people.viewer.token], env);
    expect(flag.status, flag.stderr).toBe(0);
  });

  it("sets, lists and switches contexts, writing the file mode 0600 and never printing a token", async () => {
    const config = join(dir, "made.yaml");
    const env = { HOME: fleet.home, FLOTILLA_CONFIG: config };
    await writeFile(join(dir, "otto.token"), people.operator.token);
    await chmod(join(dir, "otto.token"), 0o600);
    expect((await flotilla(["context", "set", "ops", "--hub", fleet.hub.url, "--token-file", join(dir, "otto.token")], env)).status).toBe(0);
    const set = await flotilla(["context", "set", "bad", "--hub", fleet.hub.url, "--token", `flt_${"z".repeat(43)}`], env);
    expect(set.status, set.stderr).toBe(0);
    expect((await stat(config)).mode & 0o777).toBe(0o600);
    expect(parseYaml(await readFile(config, "utf8"))).toEqual({
      "current-context": "ops",
      contexts: [
        { name: "ops", hub: fleet.hub.url, tokenFile: join(dir, "otto.token") },
        { name: "bad", hub: fleet.hub.url, token: `flt_${"z".repeat(43)}` },
      ],
    });
    const list = await flotilla(["context", "list"], env);
    expect(list.stdout).toMatch(/^CURRENT +NAME +HUB +AUTH$/m);
    expect(list.stdout).toMatch(new RegExp(`^\\* +ops +${fleet.hub.url.replace(/[.]/g, "\\.")} +tokenFile `, "m"));
    expect(list.stdout).toMatch(/^ +bad +\S+ +token \(inline\)$/m);
    expect(list.stdout).not.toContain("flt_");
    expect((await flotilla(["status"], env)).status).toBe(0);
    expect((await flotilla(["context", "use", "bad"], env)).status).toBe(0);
    expect((await flotilla(["context", "current"], env)).stdout.trim()).toBe("bad");
    expect((await flotilla(["status"], env)).status).toBe(4);
    const nope = await flotilla(["context", "use", "nope"], env);
    expect(nope.status).toBe(2);
    expect(nope.stderr).toContain('no context "nope"');
  });

  it("names the file and field of a broken config", async () => {
    const config = join(dir, "broken.yaml");
    await writeFile(config, "contexts:\n  - name: x\n");
    const r = await flotilla(["status"], { HOME: fleet.home, FLOTILLA_CONFIG: config });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(`${config}: contexts[0].hub: required, the hub's URL (context "x")`);
  });
});
