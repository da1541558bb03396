// The agent's break-glass watch over a real NATS: only hub-signed records for this cluster with a
// higher generation count; coverage follows the scope; windows end at expiry by the agent's clock.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ErrorCode, windowCovers, type BreakGlassWindow, type ControlRecord } from "@flotilla/model";
import { createTestNats, type TestNats } from "@flotilla/testkit";
import { controlKey, encodeJson, generateSigningKey, signControl, wireNames, type SigningKey, type WireNames } from "@flotilla/wire";
import { Kvm } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { BreakGlassWatch, connectAgentNats } from "../src/index.js";
import type { Refusal } from "../src/ports.js";
import { privateNats, waitFor } from "./nats-helpers.js";

const CLUSTER = "edge-1";
const DEPLOY = { group: "apps", kind: "Deployment", namespace: "shop", name: "api" };
const DEPLOY_KEY = "apps/Deployment/shop/api";
const OTHER_KEY = "/ConfigMap/shop/settings";

const window = (over: Partial<BreakGlassWindow> = {}, ttlMs = 60_000): BreakGlassWindow => ({
  id: `w-${Math.random().toString(36).slice(2, 8)}`,
  cluster: CLUSTER,
  scope: { kind: "cluster" },
  reason: "incident",
  author: "ada",
  startedAt: new Date().toISOString(),
  expiresAt: new Date(Date.now() + ttlMs).toISOString(),
  ...over,
});

describe("windowCovers", () => {
  const now = Date.now();
  it.each([
    ["cluster scope, any object", { scope: { kind: "cluster" as const } }, "shop", OTHER_KEY, true],
    ["app scope, its app", { scope: { kind: "app" as const, app: "shop" } }, "shop", DEPLOY_KEY, true],
    ["app scope, another app", { scope: { kind: "app" as const, app: "shop" } }, "billing", DEPLOY_KEY, false],
    ["object scope, that object", { scope: { kind: "object" as const, object: DEPLOY } }, "shop", DEPLOY_KEY, true],
    ["object scope, another object", { scope: { kind: "object" as const, object: DEPLOY } }, "shop", OTHER_KEY, false],
    ["object scope narrowed to an app, other app", { scope: { kind: "object" as const, object: DEPLOY, app: "billing" } }, "shop", DEPLOY_KEY, false],
    ["expired", { scope: { kind: "cluster" as const }, expiresAt: new Date(now).toISOString() }, "shop", DEPLOY_KEY, false],
    ["ended", { scope: { kind: "cluster" as const }, endedAt: new Date(now).toISOString() }, "shop", DEPLOY_KEY, false],
  ])("%s", (_what, over, app, key, expected) => {
    expect(windowCovers(window(over), app, key, now)).toBe(expected);
  });
});

describe("BreakGlassWatch", () => {
  let tn: TestNats;
  let names: WireNames;
  let nc: NatsConnection;
  let hub: SigningKey;
  let generation: number;
  const watches: BreakGlassWatch[] = [];

  const put = async (record: unknown, cluster = CLUSTER) => {
    const kv = await new Kvm(nc).open(names.desiredBucket);
    await kv.put(controlKey(cluster), encodeJson(record));
  };
  const signed = (windows: BreakGlassWindow[], over: Partial<ControlRecord> = {}, key = hub) =>
    signControl({ cluster: CLUSTER, generation: ++generation, issuedAt: new Date().toISOString(), windows, ...over }, key);
  const newWatch = () => {
    const refused: Refusal[] = [];
    let changes = 0;
    const w = new BreakGlassWatch({
      connection: nc,
      names,
      cluster: CLUSTER,
      publicKey: hub.publicKey,
      retry: { initialMs: 50, maxMs: 500 },
      onRefused: (r) => refused.push(r),
      onChange: () => changes++,
    });
    watches.push(w);
    w.start();
    return { w, refused, changes: () => changes };
  };

  beforeEach(async () => {
    tn = createTestNats("break-glass-agent");
    names = wireNames(tn.prefix);
    nc = await connect({ servers: tn.url });
    await new Kvm(nc).create(names.desiredBucket, { history: 5, allow_direct: true });
    hub = generateSigningKey();
    generation = 100;
  });
  afterEach(async () => {
    for (const w of watches.splice(0)) await w.stop();
    await nc?.close();
    await tn?.cleanup();
  });

  it("honours a hub-signed record for its scope and follows newer records", async () => {
    const { w, changes } = newWatch();
    expect(w.covers("shop", DEPLOY_KEY)).toBe(false);
    await put(signed([window({ scope: { kind: "app", app: "shop" } })]));
    await waitFor("the window to be held", () => w.covers("shop", DEPLOY_KEY) || undefined);
    expect(w.covers("billing", DEPLOY_KEY)).toBe(false);
    expect(changes()).toBe(1);
    await put(signed([]));
    await waitFor("the record without windows", () => (w.generation === generation ? true : undefined));
    expect(w.covers("shop", DEPLOY_KEY)).toBe(false);
    expect(changes()).toBe(2);
    expect(w.counters).toEqual({ accepted: 2, refused: 0 });
  });

  it("refuses a record signed by another key, for another cluster, unsigned, or not newer", async () => {
    const { w, refused } = newWatch();
    const intruder = generateSigningKey();
    await put(signed([window()], {}, intruder));
    await waitFor("the forged record to be refused", () => refused[0]);
    expect(refused[0]!.error.code).toBe(ErrorCode.SignatureInvalid);
    expect(refused[0]!.error.message).toMatch(/does not verify with the hub key/);
    expect(w.covers("shop", DEPLOY_KEY)).toBe(false);

    const { signature: _s, keyId: _k, ...unsigned } = signed([window()]);
    await put(unsigned);
    await waitFor("the unsigned record to be refused", () => refused[1]);
    expect(refused[1]!.error.message).toMatch(/unsigned/);

    await put(signed([window({ cluster: "edge-2" })], { cluster: "edge-2" }));
    await waitFor("the other cluster's record to be refused", () => refused[2]);
    expect(refused[2]!.error.message).toMatch(/for cluster "edge-2"/);
    expect(w.covers("shop", DEPLOY_KEY)).toBe(false);

    const current = signed([]);
    await put(current);
    await waitFor("a good record", () => (w.generation === current.generation ? true : undefined));
    // A replay of an older, validly signed record that had a window cannot reopen it.
    await put(signed([window()], { generation: current.generation - 1 }));
    await waitFor("the stale record to be refused", () => refused[3]);
    expect(refused[3]!.error.code).toBe(ErrorCode.StaleGeneration);
    expect(w.covers("shop", DEPLOY_KEY)).toBe(false);
    expect(w.counters).toEqual({ accepted: 1, refused: 4 });
  });

  it("ends a window at its expiry by its own clock, with NATS gone, and says so", async () => {
    const { w, changes } = newWatch();
    await put(signed([window({ scope: { kind: "object", object: DEPLOY } }, 1_500)]));
    await waitFor("the window to be held", () => w.covers("shop", DEPLOY_KEY) || undefined);
    expect(w.covers("shop", OTHER_KEY)).toBe(false);
    expect(changes()).toBe(1);
    // The hub never publishes again and NATS goes away: the agent still ends the window.
    await nc.close();
    await waitFor("the window to expire", () => (!w.covers("shop", DEPLOY_KEY) ? true : undefined), 10_000);
    await waitFor("onChange at the expiry", () => (changes() === 2 ? true : undefined), 5_000);
    expect(w.active()).toEqual([]);
  });
});

describe("BreakGlassWatch across a NATS restart", () => {
  it("keeps its windows while NATS is down and follows the hub's next record when the server comes back empty", async () => {
    const server = await privateNats();
    const names = wireNames("bg-restart");
    const hub = generateSigningKey();
    let watch: BreakGlassWatch | undefined;
    let admin: NatsConnection | undefined;
    try {
      await server.start();
      admin = await connect({ servers: server.url, maxReconnectAttempts: -1, reconnectTimeWait: 100 });
      const hubNc = admin;
      const put = async (generation: number, windows: BreakGlassWindow[]) => {
        const kv = await new Kvm(hubNc).create(names.desiredBucket, { history: 5, allow_direct: true });
        await kv.put(controlKey(CLUSTER), encodeJson(signControl({ cluster: CLUSTER, generation, issuedAt: new Date().toISOString(), windows }, hub)));
      };
      watch = new BreakGlassWatch({
        connection: () => connectAgentNats({ servers: server.url, reconnectTimeWait: 100 }),
        names,
        cluster: CLUSTER,
        publicKey: hub.publicKey,
        retry: { initialMs: 50, maxMs: 500 },
      });
      watch.start();
      await put(1, [window({ scope: { kind: "app", app: "shop" } })]);
      const w = watch;
      await waitFor("the window", () => w.covers("shop", DEPLOY_KEY) || undefined);

      await server.stop();
      // NATS away: the window is still honoured (it has not expired).
      expect(w.covers("shop", DEPLOY_KEY)).toBe(true);
      await server.wipe();
      await server.start();
      // The hub ends the window meanwhile and publishes again into the empty server.
      await waitFor("the hub can write again", async () => {
        try {
          await put(2, []);
          return true;
        } catch {
          return false;
        }
      });
      await waitFor("generation 2 after the restart", () => (w.generation === 2 ? true : undefined), 30_000);
      expect(w.covers("shop", DEPLOY_KEY)).toBe(false);
      expect(w.counters.refused).toBe(0);
    } finally {
      await watch?.stop();
      await admin?.close();
      await server.dispose();
    }
  });
});
