// A real hub that promotes, for the `flotilla promote` tests: the promotion fixture of
// @flotilla/hub/testing (the env repo on a Git HTTP server the hub pushes wave commits to, its own
// Postgres database and NATS prefix), the tokens of fleet-hub.ts, and the clusters' agents stood in
// for as the hub's own promotion tests do it — Healthy, Degraded, or nothing — every 150 ms.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startHub, type Hub } from "@flotilla/hub";
import { callHub, startPromotionFixture, startStandInAgents } from "@flotilla/hub/testing";
import { createTestDatabase, createTestNats } from "@flotilla/testkit";
import { people, type Person } from "./fleet-hub.js";

const ROLLOUT = "minHealthy: 300ms, progressDeadline: 30s, unknownAfter: 10s";

/** dev → prod (an approval, a freeze window far ahead, two waves); qa stands alone. */
export const FLEET = `apiVersion: flotilla.dev/v1alpha1
environments:
  - name: dev
    promotion: { rollout: { ${ROLLOUT} } }
  - name: prod
    promotion:
      from: [dev]
      digestOnly: true
      approvals: { count: 1, groups: [sre] }
      freeze:
        - { name: far-future, kind: deny, start: "2099-12-24T00:00:00Z", end: "2099-12-27T00:00:00Z" }
      rollout:
        ${ROLLOUT.split(", ").join("\n        ")}
        waves:
          - { name: canary, clusters: [prod-1], failureBudget: 0 }
          - { name: rest, percent: 100, failureBudget: 0 }
  - name: qa
    promotion: { rollout: { ${ROLLOUT}, waves: [{ name: all, percent: 100, failureBudget: 0 }] } }
clusters:
  - { name: dev-1, environment: dev }
  - { name: prod-1, environment: prod }
  - { name: prod-2, environment: prod }
  - { name: qa-1, environment: qa }
apps:
  - { name: shop, path: apps/shop }
`;
const CLUSTERS = ["dev-1", "prod-1", "prod-2", "qa-1"];
export type Behaviour = "healthy" | "degraded" | "silent";

export interface PromotionHub {
  hub: Hub;
  home: string;
  behaviour: Map<string, Behaviour>;
  env(as: Person, extra?: NodeJS.ProcessEnv): NodeJS.ProcessEnv;
  call<T>(method: string, path: string, as: Person, body?: unknown): Promise<{ status: number; body: T }>;
  stop(): Promise<void>;
}

export async function startPromotionHub(label: string): Promise<PromotionHub> {
  const fixture = await startPromotionFixture({ db: await createTestDatabase(label), nats: createTestNats(label), fleet: FLEET });
  const home = await mkdtemp(join(tmpdir(), `cli-${label}-home-`));
  const hub = await startHub(
    fixture.hubConfig(Object.values(people).map((p) => p.entry), process.env.FLOTILLA_TEST_HUB_LOG ? { logger: { level: process.env.FLOTILLA_TEST_HUB_LOG } } : {}),
  );
  const behaviour = new Map<string, Behaviour>();
  const agents = startStandInAgents({ clusters: CLUSTERS, readPointer: (c) => hub.publisher.readPointer(c), wire: () => hub, behaviour: (c) => behaviour.get(c) ?? "healthy" });
  return {
    hub,
    home,
    behaviour,
    env: (as, extra = {}) => ({ HOME: home, FLOTILLA_HUB_URL: hub.url, FLOTILLA_TOKEN: people[as].token, ...extra }),
    call: <T>(method: string, path: string, as: Person, body?: unknown) => callHub<T>(hub.url, people[as].token, method, path, body),
    async stop() {
      await agents.stop();
      await hub.stop();
      await fixture.close();
      await rm(home, { recursive: true, force: true });
    },
  };
}
