// `flotilla break-glass` against a real hub (real NATS): open windows of each scope, list them as
// a golden table and as the API's body, close one (cluster looked up), the audit trail, and the
// exit codes for bad flags, an unknown cluster or window and a role below operator.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BreakGlassWindow } from "@flotilla/model";
import { flotilla, startFleetHub, type FleetHub } from "./fleet-hub.js";

let fleet: FleetHub;

beforeAll(async () => {
  fleet = await startFleetHub("clibg");
}, 120_000);

afterAll(async () => {
  await fleet?.stop();
});

/** Window ids and times vary; same-width placeholders keep the columns as they were. */
function normalize(text: string, windows: BreakGlassWindow[]): string {
  let out = text.replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ/g, "YYYY-MM-DDTHH:MM:SSZ");
  windows.forEach((w, i) => (out = out.replaceAll(w.id, `window-${i + 1}`.padEnd(w.id.length, "-"))));
  return out;
}

describe("flotilla break-glass", () => {
  const opened: BreakGlassWindow[] = [];

  it("opens a window for an app, an object and a whole cluster, saying what it did", async () => {
    const app = await flotilla(["break-glass", "open", "dev-1", "--app", "shop", "--reason", "INC-1: scaling by hand", "--duration", "30m"], fleet.env("operator"));
    expect(app.status, app.stderr).toBe(0);
    expect(app.stdout).toMatch(/^Window: +[0-9a-f-]{36}$/m);
    expect(app.stdout).toMatch(/^Scope: +app shop$/m);
    expect(app.stdout).toMatch(/^Author: +otto$/m);
    expect(app.stdout).toMatch(/^Control record: +generation \d+$/m);
    const object = await flotilla(["break-glass", "open", "dev-1", "--object", "Deployment.apps/shop/inventory-api", "--app", "shop", "--reason", "INC-2: image by hand", "--until", new Date(Date.now() + 3_600_000).toISOString(), "-o", "json"], fleet.env("operator"));
    expect(object.status, object.stderr).toBe(0);
    const body = JSON.parse(object.stdout) as BreakGlassWindow;
    expect(body.scope).toEqual({ kind: "object", object: { group: "apps", kind: "Deployment", namespace: "shop", name: "inventory-api" }, app: "shop" });
    const core = await flotilla(["break-glass", "open", "prod-1", "--object", "/ConfigMap/shop/cfg", "--reason", "INC-3", "--duration", "1h", "-o", "json"], fleet.env("admin"));
    expect(core.status, core.stderr).toBe(0);
    expect((JSON.parse(core.stdout) as BreakGlassWindow).scope.object).toEqual({ group: "", kind: "ConfigMap", namespace: "shop", name: "cfg" });
    const cluster = await flotilla(["break-glass", "open", "prod-1", "--reason", "INC-4: everything by hand", "--duration", "90s", "-o", "yaml"], fleet.env("operator"));
    expect(cluster.status, cluster.stderr).toBe(0);
    expect(cluster.stdout).toContain("kind: cluster");
    opened.push(...(await fleet.api<BreakGlassWindow[]>("/v1/break-glass")).body);
    expect(opened).toHaveLength(4);
  });

  it("lists the active windows as an aligned table, and -o json as the API answers", async () => {
    const r = await flotilla(["break-glass", "list"], fleet.env("viewer"));
    expect(r.status, r.stderr).toBe(0);
    expect(normalize(r.stdout, opened)).toBe(
      [
        "ID                                    CLUSTER  SCOPE                                          AUTHOR  STARTED               EXPIRES               REASON",
        "window-1----------------------------  dev-1    app shop                                       otto    YYYY-MM-DDTHH:MM:SSZ  YYYY-MM-DDTHH:MM:SSZ  INC-1: scaling by hand",
        "window-2----------------------------  dev-1    Deployment.apps/shop/inventory-api (app shop)  otto    YYYY-MM-DDTHH:MM:SSZ  YYYY-MM-DDTHH:MM:SSZ  INC-2: image by hand",
        "window-3----------------------------  prod-1   ConfigMap/shop/cfg                             root    YYYY-MM-DDTHH:MM:SSZ  YYYY-MM-DDTHH:MM:SSZ  INC-3",
        "window-4----------------------------  prod-1   cluster                                        otto    YYYY-MM-DDTHH:MM:SSZ  YYYY-MM-DDTHH:MM:SSZ  INC-4: everything by hand",
        "",
      ].join("\n"),
    );
    const json = await flotilla(["break-glass", "list", "--active", "-o", "json"], fleet.env("viewer"));
    expect(JSON.parse(json.stdout)).toEqual((await fleet.api<unknown>("/v1/break-glass")).body);
    const one = await flotilla(["break-glass", "list", "--cluster", "prod-1", "-o", "json"], fleet.env("viewer"));
    expect(JSON.parse(one.stdout)).toEqual((await fleet.api<unknown>("/v1/clusters/prod-1/break-glass")).body);
  });

  it("closes a window by id alone (its cluster is looked up), and a second close changes nothing", async () => {
    const first = opened[0]!;
    const r = await flotilla(["break-glass", "close", first.id, "--reason", "scaled back"], fleet.env("operator"));
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^Ended: +\S+Z by otto: scaled back$/m);
    expect((await fleet.api<BreakGlassWindow[]>("/v1/break-glass")).body.map((w) => w.id)).not.toContain(first.id);
    const again = await flotilla(["break-glass", "close", first.id, "-o", "json"], fleet.env("operator"));
    expect(again.status, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ id: first.id, endedBy: "otto", controlGeneration: null });
    const audit = await flotilla(["break-glass", "audit", "--cluster", "dev-1"], fleet.env("viewer"));
    expect(audit.status, audit.stderr).toBe(0);
    expect(audit.stdout).toMatch(/^AT +CLUSTER +WINDOW +EVENT +ACTOR +SCOPE +REASON$/m);
    expect(audit.stdout).toMatch(new RegExp(`^\\S+Z +dev-1 +${first.id} +ended +otto +app shop +scaled back$`, "m"));
    const auditJson = await flotilla(["break-glass", "audit", "-o", "json", "--limit", "2"], fleet.env("viewer"));
    expect(JSON.parse(auditJson.stdout)).toEqual((await fleet.api<unknown>("/v1/break-glass/audit?limit=2")).body);
  });

  it("exits 4 for a role below operator, with the API's code", async () => {
    for (const who of ["viewer", "promoter"] as const) {
      const r = await flotilla(["break-glass", "open", "dev-1", "--reason", "x", "--duration", "5m"], fleet.env(who));
      expect(r.status, r.stderr).toBe(4);
      expect(r.stderr).toContain("flotilla break-glass open: FLOTILLA_ERR_FORBIDDEN:");
    }
    const close = await flotilla(["break-glass", "close", opened[1]!.id], fleet.env("viewer"));
    expect(close.status).toBe(4);
  });

  it("exits 2 naming the flag for bad input, and 3 for an unknown cluster or window", async () => {
    const cases: [string[], string][] = [
      [["open", "dev-1", "--duration", "5m"], "--reason is required"],
      [["open", "dev-1", "--reason", "x"], "give --duration (such as 30m, at most 24h) or --until"],
      [["open", "dev-1", "--reason", "x", "--duration", "300"], '--duration "300" is not a duration with a unit'],
      [["open", "dev-1", "--reason", "x", "--duration", "25h"], "longer than 24h"],
      [["open", "dev-1", "--reason", "x", "--duration", "5m", "--object", "web"], '--object "web": give Kind[.group]/namespace/name'],
      [["open", "dev-1", "--reason", "x", "--until", "tomorrow"], 'FLOTILLA_ERR_BAD_REQUEST: body field "expiresAt" must be an ISO-8601 timestamp'],
      [["open", "--reason", "x", "--duration", "5m"], "flotilla break-glass open: missing CLUSTER"],
      [["shut", "x"], 'flotilla break-glass: unknown verb "shut"'],
    ];
    for (const [args, message] of cases) {
      const r = await flotilla(["break-glass", ...args], fleet.env("operator"));
      expect(r.status, `${args.join(" ")}: ${r.stderr}`).toBe(2);
      expect(r.stderr).toContain(message);
    }
    const cluster = await flotilla(["break-glass", "open", "nope-1", "--reason", "x", "--duration", "5m"], fleet.env("operator"));
    expect(cluster.status).toBe(3);
    expect(cluster.stderr).toContain("FLOTILLA_ERR_NOT_FOUND");
    const window = await flotilla(["break-glass", "close", "00000000-0000-4000-8000-000000000000"], fleet.env("operator"));
    expect(window.status).toBe(3);
    expect(window.stderr).toContain("no break-glass window 00000000-0000-4000-8000-000000000000");
    const help = await flotilla(["break-glass", "open", "--help"], {});
    expect(help.status).toBe(0);
    expect(help.stdout).toContain("Usage: flotilla break-glass open CLUSTER --reason TEXT");
  });
});
