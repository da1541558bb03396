// Field-manager hygiene against objects created by the real kubectl: afterwards only our
// manager owns the fields we declare and the last-applied annotation is gone.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { KubeObject } from "@flotilla/model";
import { useSharedControlPlane } from "@flotilla/testkit/vitest";
import { afterAll, describe, expect, it } from "vitest";
import { KubeClient, ResourceManager, managedFieldsOf, targetOf } from "../src/index.js";
import { configMap } from "./objects.js";

const plane = useSharedControlPlane();
const client = new KubeClient(plane.kubeConfig);
const manager = new ResourceManager(client);
afterAll(() => client.close());

async function kubectl(args: string[], stdin: string): Promise<void> {
  const child = promisify(execFile)("kubectl", ["--kubeconfig", plane.kubeconfigPath, ...args, "-f", "-"]);
  child.child.stdin?.end(stdin);
  await child;
}

async function live(o: KubeObject): Promise<KubeObject> {
  const r = await client.get(targetOf(o));
  if (!r.ok || !r.value) throw new Error(`no ${o.metadata.name}`);
  return r.value;
}

const LAST = "kubectl.kubernetes.io/last-applied-configuration";

describe("taking over from kubectl", () => {
  it("takes over from kubectl client-side apply and drops the last-applied annotation", async () => {
    const ns = await plane.freshNamespace("csa");
    await kubectl(["apply"], JSON.stringify(configMap(ns, "cfg", { a: "1", extra: "from-kubectl" })));
    const before = await live(configMap(ns, "cfg", {}));
    expect(before.metadata.annotations?.[LAST]).toBeDefined();
    expect(managedFieldsOf(before).map((e) => e.manager)).toContain("kubectl-client-side-apply");

    const cs = await manager.applyAll([configMap(ns, "cfg", { a: "2" })]);
    expect(cs.entries[0]?.action).toBe("configured");

    const after = await live(configMap(ns, "cfg", {}));
    expect(after.metadata.annotations?.[LAST]).toBeUndefined();
    expect(after["data"]).toEqual({ a: "2" }); // fields only kubectl declared are ours now, and gone
    expect(managedFieldsOf(after).map((e) => `${e.manager}/${e.operation}`)).toEqual(["flotilla/Apply"]);

    const again = await manager.applyAll([configMap(ns, "cfg", { a: "2" })]);
    expect(again.entries[0]?.action).toBe("unchanged");
  });

  it("takes over from kubectl server-side apply even when the values already match", async () => {
    const ns = await plane.freshNamespace("ssa");
    await kubectl(["apply", "--server-side"], JSON.stringify(configMap(ns, "cfg", { a: "1" })));
    expect(managedFieldsOf(await live(configMap(ns, "cfg", {}))).map((e) => e.manager)).toEqual(["kubectl"]);

    const cs = await manager.applyAll([configMap(ns, "cfg", { a: "1" })]);
    expect(cs.entries[0]?.action).toBe("configured");
    expect(managedFieldsOf(await live(configMap(ns, "cfg", {}))).map((e) => `${e.manager}/${e.operation}`)).toEqual(["flotilla/Apply"]);
    expect((await manager.applyAll([configMap(ns, "cfg", { a: "1" })])).entries[0]?.action).toBe("unchanged");
  });
});
