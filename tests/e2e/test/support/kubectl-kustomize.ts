// `kubectl kustomize`, the reference build of deploy/: a directory as it stands, or an install's
// overlay (resources plus components) written for the call. The overlay lives under the
// repository root because kustomize refuses resource paths outside the kustomization's tree.
import { spawnSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { parseAllDocuments } from "yaml";
import type { KubeObject } from "@flotilla/model";

export const ROOT = fileURLToPath(new URL("../../../../", import.meta.url));

/** kubectl's output for `dir` (relative to the repository root) as JSON documents (it quotes every string YAML 1.1 would misread). */
export function kubectlKustomize(dir: string): KubeObject[] {
  const run = spawnSync("kubectl", ["kustomize", join(ROOT, dir)], { encoding: "utf8", timeout: 60_000 });
  if (run.error) throw new Error(`cannot run kubectl: ${run.error.message}`);
  if (run.status !== 0) throw new Error(`kubectl kustomize ${dir} failed: ${run.stderr}`);
  return parseAllDocuments(run.stdout, { version: "1.1" })
    .map((d) => d.toJSON() as KubeObject | null)
    .filter((d): d is KubeObject => d !== null);
}

/**
 * Calls `build` with a temporary overlay directory (relative to the root) listing `resources` and
 * `components` (directories relative to the root), as an install's overlay lists them; removes it after.
 */
export async function withOverlay<T>(resources: string, components: string[], build: (dir: string) => T): Promise<T> {
  const overlay = await mkdtemp(join(ROOT, ".deploy-components-"));
  try {
    const up = (p: string) => `../${p}`;
    await writeFile(join(overlay, "kustomization.yaml"), ["apiVersion: kustomize.config.k8s.io/v1beta1", "kind: Kustomization", `resources: [${up(resources)}]`, `components: [${components.map(up).join(", ")}]`, ""].join("\n"));
    return build(relative(ROOT, overlay));
  } finally {
    await rm(overlay, { recursive: true, force: true });
  }
}
