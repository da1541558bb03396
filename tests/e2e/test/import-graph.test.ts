// The import graph of every package's sources flows one way: no module reaches itself through
// relative imports (type-only imports included — a type cycle is still two files that must be
// read together). A cycle fails here with the files that form it.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = normalize(join(dirname(fileURLToPath(import.meta.url)), "../../.."));
const PACKAGE_GROUPS = ["libs", "services", "agents"];
// `from "./x.js"`, `import("./x.js")`, `import "./x.js"`; the specifier is relative.
const RELATIVE_IMPORT = /(?:\bfrom\s*|\bimport\s*\(\s*|\bimport\s+)["'](\.{1,2}\/[^"']+)["']/g;

type Graph = Map<string, Set<string>>;

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sourceFiles(path));
    else if (/\.(ts|mts)$/.test(entry.name) && !entry.name.endsWith(".d.ts")) out.push(path);
  }
  return out;
}

function sourceGraph(): Graph {
  const files: string[] = [];
  for (const group of PACKAGE_GROUPS) {
    for (const pkg of readdirSync(join(root, group), { withFileTypes: true })) {
      if (!pkg.isDirectory()) continue;
      const src = join(root, group, pkg.name, "src");
      try {
        files.push(...sourceFiles(src));
      } catch {
        // a package without src/ (none today) has nothing to check
      }
    }
  }
  const known = new Set(files);
  const graph: Graph = new Map();
  for (const file of files) {
    const deps = new Set<string>();
    for (const m of readFileSync(file, "utf8").matchAll(RELATIVE_IMPORT)) {
      const target = normalize(join(dirname(file), m[1]!)).replace(/\.(m?)js$/, ".$1ts");
      const resolved = [target, join(target, "index.ts")].find((t) => known.has(t));
      if (resolved) deps.add(resolved);
    }
    graph.set(file, deps);
  }
  return graph;
}

/** Strongly connected components of more than one file, or a file importing itself (Tarjan). */
function importCycles(graph: Graph): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const cycles: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    for (;;) {
      const w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
      if (w === v) break;
    }
    if (component.length > 1 || graph.get(v)?.has(v)) cycles.push(component.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return cycles;
}

describe("import graph", () => {
  it("finds a cycle when there is one", () => {
    const g: Graph = new Map([
      ["a", new Set(["b"])],
      ["b", new Set(["c"])],
      ["c", new Set(["a"])],
      ["d", new Set(["a"])],
    ]);
    expect(importCycles(g)).toEqual([["a", "b", "c"]]);
    expect(importCycles(new Map([["a", new Set(["a"])]]))).toEqual([["a"]]);
  });

  it("has no cycle among the packages' sources", () => {
    const graph = sourceGraph();
    const edges = [...graph.values()].reduce((n, deps) => n + deps.size, 0);
    // The scan really read the sources (a broken pattern would find no edges and no cycle).
    expect(graph.size).toBeGreaterThan(250);
    expect(edges).toBeGreaterThan(graph.size);
    const cycles = importCycles(graph).map((c) => c.map((f) => relative(root, f)).join(" ⇄ "));
    expect(cycles, "these files import each other; move what both need into a third file").toEqual([]);
  });
});
