// Kustomize conformance: every directory under cases/ is a small env-repo tree. For each, the real
// `kubectl kustomize` (kustomize v5.5) and our renderKustomization build the same kustomization
// root; their outputs must be the same documents in the same order, and toYamlStream must print
// them byte for byte as kubectl does. Cases that kustomize rejects
// must be rejected by us too, with an OverlayError whose message names the kustomization file.
// kubectl runs live on every test run (no cached expectations) so the suite keeps catching
// differences when either side changes. A case may hold a case.json: { "dir": "overlays/prod" }
// names the kustomization root inside the case (default: the case directory itself).

import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import * as overlays from "../../src/index.js";

const casesDir = join(dirname(fileURLToPath(import.meta.url)), "cases");

interface CaseConfig {
  /** Kustomization root relative to the case directory; "" or "." is the case directory. */
  dir?: string;
}

interface Kustomized {
  ok: boolean;
  docs: unknown[];
  stdout: string;
  stderr: string;
}

function readCaseConfig(caseRoot: string): CaseConfig {
  const file = join(caseRoot, "case.json");
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as CaseConfig) : {};
}

/** Parses kubectl's output. It quotes every string YAML 1.1 would misread, so 1.1 is safe. */
function parseDocs(text: string): unknown[] {
  return parseAllDocuments(text, { version: "1.1" })
    .map((d) => {
      if (d.errors.length > 0) throw new Error(`kubectl printed YAML we cannot parse: ${d.errors[0]!.message}`);
      return d.toJSON() as unknown;
    })
    .filter((d) => d !== null && d !== undefined);
}

function kubectlKustomize(dir: string): Kustomized {
  const run = spawnSync("kubectl", ["kustomize", dir], { encoding: "utf8", timeout: 60_000 });
  if (run.error) throw new Error(`cannot run kubectl (needed for the conformance suite): ${run.error.message}`);
  if (run.status !== 0) return { ok: false, docs: [], stdout: run.stdout, stderr: run.stderr };
  return { ok: true, docs: parseDocs(run.stdout), stdout: run.stdout, stderr: run.stderr };
}

/**
 * Our engine's output as plain JSON documents. renderKustomization may return the objects, or a
 * result holding them (`objects` / `resources`), or a failed result carrying its error.
 */
function ourRender(caseRoot: string, dir: string): unknown[] {
  const api = overlays as unknown as Record<string, unknown>;
  const render = api["renderKustomization"] as ((view: unknown, dir: string) => unknown) | undefined;
  const fsFileView = api["fsFileView"] as ((root: string) => unknown) | undefined;
  if (typeof render !== "function" || typeof fsFileView !== "function") {
    throw new Error("libs/overlays/src/index.ts does not export renderKustomization and fsFileView yet");
  }
  const result = render(fsFileView(caseRoot), dir);
  const r = result as Record<string, unknown> | unknown[];
  if (Array.isArray(r)) return toPlain(r);
  if (r && typeof r === "object") {
    if (r["ok"] === false || r["error"] !== undefined) throw r["error"] ?? new Error("render failed");
    for (const field of ["objects", "resources"]) {
      const v = r[field];
      if (Array.isArray(v)) return toPlain(v);
    }
  }
  throw new Error(`renderKustomization returned something we cannot read: ${JSON.stringify(result)?.slice(0, 200)}`);
}

/** Objects may be class instances or resources wrapping `obj`; compare their JSON. */
function toPlain(items: unknown[]): unknown[] {
  return items.map((x) => {
    const item = x as Record<string, unknown>;
    const obj = item && typeof item === "object" && "obj" in item && !("apiVersion" in item) ? item["obj"] : item;
    return JSON.parse(JSON.stringify(obj)) as unknown;
  });
}

function describeDoc(d: unknown): string {
  const o = d as { kind?: string; metadata?: { name?: string; namespace?: string } } | null;
  return `${o?.kind ?? "?"} ${o?.metadata?.namespace ? `${o.metadata.namespace}/` : ""}${o?.metadata?.name ?? "?"}`;
}

const cases = readdirSync(casesDir, { withFileTypes: true })
  .filter((e) => e.isDirectory())
  .map((e) => e.name)
  .sort();

describe("kustomize conformance", () => {
  it("has at least 60 cases", () => {
    expect(cases.length).toBeGreaterThanOrEqual(60);
  });

  for (const name of cases) {
    it(name, () => {
      const caseRoot = join(casesDir, name);
      const dir = (readCaseConfig(caseRoot).dir ?? "").replace(/^\.\/?/, "");
      const expected = kubectlKustomize(dir === "" ? caseRoot : join(caseRoot, dir));
      if (!expected.ok) {
        // kustomize rejects the case: we must reject it too, with an OverlayError naming the file.
        let thrown: unknown;
        try {
          ourRender(caseRoot, dir);
        } catch (err) {
          thrown = err;
        }
        expect(thrown, `kustomize rejects ${name} (${expected.stderr.trim().split("\n")[0]}) but we render it`).toBeDefined();
        const OverlayError = (overlays as unknown as Record<string, unknown>)["OverlayError"] as (new (...a: never[]) => Error) | undefined;
        if (OverlayError) expect(thrown, String(thrown)).toBeInstanceOf(OverlayError);
        expect((thrown as Error).message).toMatch(/kustomization\.ya?ml|\bKustomization\b/);
        return;
      }
      expect(expected.docs.length, "a case kustomize accepts must produce objects").toBeGreaterThan(0);
      const actual = ourRender(caseRoot, dir);
      // Order first (it names the objects, which reads better than a deep diff), then content.
      expect(actual.map(describeDoc)).toEqual(expected.docs.map(describeDoc));
      expect(actual).toEqual(expected.docs);
      // And printed, the same bytes (`flotilla render` prints what `kubectl kustomize` prints).
      expect(overlays.toYamlStream(actual as never)).toBe(expected.stdout);
    });
  }
});
