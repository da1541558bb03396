// The reconciler's pure pieces: fight backoff and the live values kept at ignored paths.
import { describe, expect, it } from "vitest";
import type { KubeObject } from "@flotilla/model";
import { FightGuard } from "../src/fight-guard.js";
import { withLiveValuesAtIgnoredPaths, withValuesAt } from "../src/ignore-paths.js";

describe("FightGuard", () => {
  const guard = () => new FightGuard({ windowMs: 10_000, freeReverts: 2, initialDelayMs: 100, maxDelayMs: 1_000 });

  it("allows free reverts, then doubles the wait up to the cap", () => {
    const g = guard();
    const delays = Array.from({ length: 8 }, (_, i) => g.next("k", i * 50));
    expect(delays.map((d) => d.delayMs)).toEqual([0, 0, 100, 200, 400, 800, 1_000, 1_000]);
    expect(delays.map((d) => d.fight)).toEqual([false, false, true, true, true, true, true, true]);
  });

  it("forgets a fight after a quiet window, and keeps objects apart", () => {
    const g = guard();
    for (let i = 0; i < 4; i++) g.next("a", i);
    expect(g.next("b", 5)).toEqual({ delayMs: 0, fight: false });
    expect(g.next("a", 20_000)).toEqual({ delayMs: 0, fight: false });
  });
});

describe("withLiveValuesAtIgnoredPaths", () => {
  const desired: KubeObject = {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: "web", namespace: "shop", annotations: { a: "1" } },
    spec: { replicas: 2, template: { spec: { containers: [{ name: "main", image: "nginx:1.27" }] } } },
  };
  const live: KubeObject = {
    ...desired,
    metadata: { ...desired.metadata, annotations: {} },
    spec: { replicas: 7, template: { spec: { containers: [{ name: "main", image: "nginx:1.28" }] } } },
  };
  const rule = (paths: string[], kind = "Deployment") => [{ kind, paths }];

  it("takes the live value at each ignored path and leaves the rest", () => {
    const out = withLiveValuesAtIgnoredPaths(desired, live, rule(["/spec/replicas", "/spec/template/spec/containers/0/image"])) as unknown as { spec: { replicas: number; template: { spec: { containers: { image: string }[] } } } };
    expect(out.spec.replicas).toBe(7);
    expect(out.spec.template.spec.containers[0]!.image).toBe("nginx:1.28");
    expect((desired as unknown as { spec: { replicas: number } }).spec.replicas).toBe(2); // not mutated
  });

  it("drops an ignored field the live object does not have", () => {
    const out = withLiveValuesAtIgnoredPaths(desired, live, rule(["/metadata/annotations/a"]));
    expect(out.metadata.annotations).toEqual({});
  });

  it("uses the desired object for a create, and when no rule matches", () => {
    expect(withLiveValuesAtIgnoredPaths(desired, undefined, rule(["/spec/replicas"]))).toBe(desired);
    expect(withLiveValuesAtIgnoredPaths(desired, live, rule(["/spec/replicas"], "StatefulSet"))).toBe(desired);
  });
});

describe("withValuesAt", () => {
  const pod = (containers: { name: string; image: string }[], labels: Record<string, string> = {}): KubeObject =>
    ({ apiVersion: "v1", kind: "Pod", metadata: { name: "p", labels }, spec: { containers } }) as unknown as KubeObject;

  it("copies values at pointers of the live object's lists, matching keyed items by key, and removes what the source lacks", () => {
    const desired = pod([{ name: "a", image: "a:1" }, { name: "b", image: "b:1" }], { team: "x", tier: "web" });
    // Live lists the containers in another order: its index 0 is desired's index 1.
    const live = pod([{ name: "b", image: "b:hotfix" }, { name: "a", image: "a:1" }], { team: "x" });
    const held = withValuesAt(desired, live, ["/spec/containers/0/image", "/metadata/labels/tier"]);
    expect(held).toEqual(pod([{ name: "a", image: "a:1" }, { name: "b", image: "b:hotfix" }], { team: "x" }));
    expect(desired).toEqual(pod([{ name: "a", image: "a:1" }, { name: "b", image: "b:1" }], { team: "x", tier: "web" })); // not mutated
  });

  it("reads the source by the reference's item keys (baseline from a dry-run)", () => {
    const live = pod([{ name: "b", image: "b:hotfix" }, { name: "a", image: "a:1" }]);
    const applied = pod([{ name: "b", image: "b:hotfix" }, { name: "a", image: "a:1" }]);
    const dryRun = pod([{ name: "a", image: "a:1" }, { name: "b", image: "b:1" }]);
    expect(withValuesAt(applied, dryRun, ["/spec/containers/0/image"], live)).toEqual(pod([{ name: "b", image: "b:1" }, { name: "a", image: "a:1" }]));
  });

  it("skips an item the target lacks", () => {
    const live = pod([{ name: "c", image: "c:1" }]);
    expect(withValuesAt(pod([{ name: "a", image: "a:1" }]), live, ["/spec/containers/0/image"])).toEqual(pod([{ name: "a", image: "a:1" }]));
  });
});
