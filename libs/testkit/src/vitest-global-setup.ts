// Global setup of the vitest project "kube": builds the control-plane binaries if missing (the
// build script's progress shows in the terminal), starts ONE control plane for the whole run
// (controllers on, two fake Nodes) and hands its coordinates to test files via provide/inject.
import type { TestProject } from "vitest/node";
import { startControlPlane } from "./control-plane.js";
import { ensureKubeBinaries } from "./kube-binaries.js";
import type { SharedPlaneInfo } from "./shared-plane.js";

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const binDir = await ensureKubeBinaries();
  const started = Date.now();
  const plane = await startControlPlane({ name: "flotilla-shared", controllers: true, nodes: 2, binDir });
  process.stderr.write(
    `[testkit] shared control plane ${plane.server} ready in ${((Date.now() - started) / 1000).toFixed(1)} s (logs: ${plane.dir})\n`,
  );
  const info: SharedPlaneInfo = {
    name: plane.name,
    server: plane.server,
    caPem: plane.caPem,
    kubeconfigPath: plane.kubeconfigPath,
    dir: plane.dir,
    nodes: plane.nodes,
  };
  project.provide("controlPlane", info);
  return async () => {
    await plane.stop();
  };
}
