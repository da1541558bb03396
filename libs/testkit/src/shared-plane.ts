// The one control plane a kube test run shares (started by vitest-global-setup.ts), seen from a
// test file: the admin kubeconfig, and namespaces that are created for a test and deleted after it.
import { KubeConfig } from "@kubernetes/client-node";
import { afterAll, inject, onTestFinished } from "vitest";
import { createNamespace, deleteNamespace } from "./namespaces.js";
import {
  mintNamespacedIdentity,
  type NamespacedIdentity,
  type NamespacedIdentityOptions,
} from "./namespaced-identity.js";

/** What the global setup hands to test files (plain data: it crosses process boundaries). */
export interface SharedPlaneInfo {
  name: string;
  server: string;
  caPem: string;
  kubeconfigPath: string;
  /** The plane's temp dir; identity kubeconfigs are written there. */
  dir: string;
  /** Names of the fake Nodes. */
  nodes: string[];
}

declare module "vitest" {
  export interface ProvidedContext {
    controlPlane: SharedPlaneInfo;
  }
}

export interface SharedControlPlane extends SharedPlaneInfo {
  kubeConfig: KubeConfig;
  /**
   * Creates `<label>-<random>` now (ready for Pods) and deletes it when the current test ends —
   * or, when called outside a test (beforeAll), after the file's tests.
   */
  freshNamespace(label: string): Promise<string>;
  /** A ServiceAccount limited to `namespaces` (see ControlPlane.mintNamespacedIdentity). */
  mintNamespacedIdentity(opts: NamespacedIdentityOptions): Promise<NamespacedIdentity>;
}

/** Call at the top of a *.kube.test.ts file (or in a describe block). */
export function useSharedControlPlane(): SharedControlPlane {
  const info = inject("controlPlane");
  if (!info) {
    throw new Error(
      "no shared control plane: run Kubernetes tests in the vitest project 'kube' (files named *.kube.test.ts)",
    );
  }
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(info.kubeconfigPath);
  const leftovers: string[] = [];
  afterAll(async () => {
    await Promise.all(leftovers.splice(0).map((ns) => deleteNamespace(kubeConfig, ns)));
  });
  return {
    ...info,
    kubeConfig,
    async freshNamespace(label) {
      const ns = await createNamespace(kubeConfig, label, { waitForDefaultServiceAccount: true });
      try {
        onTestFinished(() => deleteNamespace(kubeConfig, ns));
      } catch {
        // Not inside a test: clean up after the file instead.
        leftovers.push(ns);
      }
      return ns;
    },
    mintNamespacedIdentity: (opts) =>
      mintNamespacedIdentity(
        { admin: kubeConfig, planeName: info.name, server: info.server, caPem: info.caPem, dir: info.dir },
        opts,
      ),
  };
}
