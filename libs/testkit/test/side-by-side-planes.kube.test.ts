// Multi-cluster tests start more control planes next to the shared one: each is its own cluster,
// and stop() leaves no process behind.
import { describe, expect, it } from "vitest";
import { existsSync } from "node:fs";
import { KubeConfig } from "@kubernetes/client-node";
import { kubeRequest, startControlPlane, waitFor } from "../src/index.js";
import { useSharedControlPlane } from "../src/vitest.js";
import { processGone } from "./support/processes.js";

const shared = useSharedControlPlane();

describe("a second control plane", () => {
  it("is isolated from the shared one and leaves no process after stop()", async () => {
    const second = await startControlPlane({ name: "second", nodes: 1 });
    try {
      expect(second.server).not.toBe(shared.server);
      expect(second.caPem).not.toBe(shared.caPem);

      const onSecond = await second.createNamespace("only-on-second");
      const onShared = await shared.freshNamespace("only-on-shared");
      const status = async (kc: typeof shared.kubeConfig, ns: string) =>
        (await kubeRequest(kc, { path: `/api/v1/namespaces/${ns}` })).status;
      expect(await status(second.kubeConfig, onSecond)).toBe(200);
      expect(await status(shared.kubeConfig, onSecond)).toBe(404);
      expect(await status(shared.kubeConfig, onShared)).toBe(200);
      expect(await status(second.kubeConfig, onShared)).toBe(404);

      // Each plane has its own CA: the shared plane's admin certificate means nothing here.
      const stranger = new KubeConfig();
      stranger.loadFromClusterAndUser(
        { name: "second", server: second.server, caData: Buffer.from(second.caPem).toString("base64"), skipTLSVerify: false },
        shared.kubeConfig.getCurrentUser()!,
      );
      expect((await kubeRequest(stranger, { path: "/api/v1/namespaces" })).status).toBe(401);

      // The static admin token works on its own plane only.
      const withToken = (server: string, caPem: string) => {
        const kc = new KubeConfig();
        kc.loadFromClusterAndUser(
          { name: "t", server, caData: Buffer.from(caPem).toString("base64"), skipTLSVerify: false },
          { name: "admin-token", token: second.adminToken },
        );
        return kc;
      };
      expect((await kubeRequest(withToken(second.server, second.caPem), { path: `/api/v1/namespaces/${onSecond}` })).status).toBe(200);
      expect((await kubeRequest(withToken(shared.server, shared.caPem), { path: "/api/v1/namespaces" })).status).toBe(401);
    } finally {
      const pids = second.pids();
      // etcd, apiserver, controller-manager, scheduler, kwok and the watchdog
      expect(pids).toHaveLength(6);
      for (const pid of pids) expect(processGone(pid)).toBe(false);
      await second.stop();
      for (const pid of pids) {
        expect(() => process.kill(pid, 0)).toThrow(expect.objectContaining({ code: "ESRCH" }));
      }
      expect(existsSync(second.dir)).toBe(false);
    }
  });

  it("without controllers runs etcd and the apiserver only, and stores objects", async () => {
    const bare = await startControlPlane({ name: "bare", controllers: false });
    try {
      expect(bare.nodes).toEqual([]);
      expect(bare.pids()).toHaveLength(3);
      const ns = await bare.createNamespace("bare");
      await waitFor(async () => (await kubeRequest(bare.kubeConfig, { path: `/api/v1/namespaces/${ns}` })).status === 200, {
        what: `namespace ${ns}`,
      });
    } finally {
      const pids = bare.pids();
      await bare.stop();
      for (const pid of pids) expect(processGone(pid)).toBe(true);
    }
  });
});
