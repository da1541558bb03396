// Golden tests for fleet layering and render-time policies. Each directory under golden/ (except
// _repos/) is one case: case.json names the env repo fixture, the cluster and the app; the checked-
// in expected.yaml (the app's objects on that cluster, as `flotilla render` prints them) or
// expected-error.txt (one `CODE: message` per line), plus expected-warnings.txt when the render
// warns. Where case.json names `kustomize` (the layer directory that must be chosen), the
// expected output must also equal what `kubectl kustomize <that directory>` prints, run live.
//
// After a deliberate change: UPDATE_GOLDEN=1 npx vitest run --project unit libs/envrepo/test/golden.test.ts
// then review every changed expected file.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { toYamlStream } from "@flotilla/overlays";
import { appSource, assembleCluster, fileViewOf, parseFleet, renderApp } from "@flotilla/envrepo";
import { readFilesFrom } from "@flotilla/envrepo/testing";

const GOLDEN = join(dirname(fileURLToPath(import.meta.url)), "golden");
const UPDATE = process.env.UPDATE_GOLDEN === "1";

interface CaseConfig {
  description: string;
  repo: string;
  cluster: string;
  app: string;
  kustomize?: string;
}

const cases = readdirSync(GOLDEN, { withFileTypes: true })
  .filter((e) => e.isDirectory() && !e.name.startsWith("_"))
  .map((e) => e.name)
  .sort();

function parseDocs(text: string): unknown[] {
  return parseAllDocuments(text, { version: "1.1" })
    .map((d) => {
      if (d.errors.length) throw new Error(`cannot parse YAML: ${d.errors[0]!.message}`);
      return d.toJSON() as unknown;
    })
    .filter((d) => d !== null && d !== undefined);
}

/** Writes (UPDATE_GOLDEN=1) or compares one expected file; `undefined` means the file must not exist. */
function golden(dir: string, name: string, actual: string | undefined): void {
  const file = join(dir, name);
  if (UPDATE) {
    if (actual === undefined) rmSync(file, { force: true });
    else writeFileSync(file, actual);
    return;
  }
  if (actual === undefined) {
    expect(existsSync(file), `${name} should not exist`).toBe(false);
    return;
  }
  expect(existsSync(file), `${name} is missing; run with UPDATE_GOLDEN=1 and review it`).toBe(true);
  expect(actual).toBe(readFileSync(file, "utf8"));
}

describe("golden: fleet layering and render-time policies", () => {
  it("has the cases", () => {
    expect(cases.filter((c) => c.startsWith("layering-")).length).toBeGreaterThanOrEqual(4);
    for (const policy of ["require-digests-", "secrets-", "tenant-"]) expect(cases.some((c) => c.startsWith(policy)), policy).toBe(true);
  });

  for (const name of cases) {
    const dir = join(GOLDEN, name);
    const config = JSON.parse(readFileSync(join(dir, "case.json"), "utf8")) as CaseConfig;
    it(`${name}: ${config.description}`, async () => {
      const repoDir = resolve(dir, config.repo);
      const view = fileViewOf(await readFilesFrom(repoDir));
      const fleet = parseFleet(new TextDecoder().decode(view.readFile("flotilla.yaml")!));
      const cluster = fleet.clusters.find((c) => c.name === config.cluster)!;
      const app = fleet.apps.find((a) => a.name === config.app)!;
      expect(cluster && app, "case.json names a cluster and an app of the fleet file").toBeTruthy();
      if (config.kustomize) expect(appSource(view, app, cluster)).toEqual({ kind: "kustomize", dir: config.kustomize });

      const r = assembleCluster(fleet, cluster, "golden", [{ app, render: renderApp(view, fleet, app, cluster) }]);
      const yaml = r.ok ? toYamlStream(r.bundle.apps[0]!.objects) : undefined;
      const errors = r.ok ? undefined : r.errors.map((e) => `${e.code}: ${e.message}\n`).join("");
      const warnings = r.warnings.length ? r.warnings.map((e) => `${e.code}: ${e.message}\n`).join("") : undefined;
      golden(dir, "expected.yaml", yaml);
      golden(dir, "expected-error.txt", errors);
      golden(dir, "expected-warnings.txt", warnings);

      if (config.kustomize) {
        expect(r.ok).toBe(true);
        const run = spawnSync("kubectl", ["kustomize", join(repoDir, config.kustomize)], { encoding: "utf8", timeout: 60_000 });
        expect(run.error, "kubectl is needed for the golden tests").toBeUndefined();
        expect(run.stderr).toBe("");
        expect(parseDocs(readFileSync(join(dir, "expected.yaml"), "utf8"))).toEqual(parseDocs(run.stdout));
      }
    });
  }
});
