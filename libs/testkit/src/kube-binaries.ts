// Locates (building on first use) the control-plane binaries through the build script, which
// owns the cache layout and honours KUBEBUILDER_ASSETS.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";

/** Names of the binaries a control plane runs. */
export const KUBE_BINARIES = ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"] as const;

export function kubeBinariesScript(): string {
  // Same relative location from src/ (tests run on sources) and from dist/.
  return fileURLToPath(new URL("../scripts/kube-binaries.sh", import.meta.url));
}

let pending: Promise<string> | undefined;

/**
 * Returns the directory holding etcd, kube-apiserver, kube-controller-manager, kube-scheduler and
 * kwok. Builds what is missing (minutes on a cold machine); the script's progress goes straight to
 * this process's stderr so a first run is visibly working, not hung.
 */
export function ensureKubeBinaries(): Promise<string> {
  pending ??= runScript().catch((err: unknown) => {
    pending = undefined;
    throw err;
  });
  return pending;
}

function runScript(): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("bash", [kubeBinariesScript()], { stdio: ["ignore", "pipe", "inherit"] });
    let stdout = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    child.on("error", reject);
    child.on("close", (code) => {
      const dir = stdout.trim().split("\n").pop();
      if (code === 0 && dir) resolve(dir);
      else
        reject(
          new Error(
            `building the Kubernetes control-plane binaries failed (exit ${code}); see the [kube-binaries] ` +
              `lines above, or point KUBEBUILDER_ASSETS at a directory holding ${KUBE_BINARIES.join(", ")}`,
          ),
        );
    });
  });
}
