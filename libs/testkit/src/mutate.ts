// Seeded bad-input generator for property tests (docs/bad-input.md). No fuzzing library: the cases
// are mutations of a valid input (delete / duplicate / retype a field, huge strings, deep nesting,
// unicode, NUL bytes, truncation), each drawn from a seed, so a failing case is replayed by
// setting FLOTILLA_FUZZ_SEED to the seed printed in the failure.

/** Small deterministic PRNG (mulberry32): the same seed always draws the same case. */
export class Rng {
  private state: number;
  constructor(readonly seed: number) {
    this.state = seed >>> 0;
  }
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
}

export type Mutation = { value: unknown; what: string };
type Segment = string | number;

// Strings that have broken parsers and printers elsewhere: NUL, lone surrogates, RTL overrides,
// combining marks, YAML 1.1 booleans, prototype keys.
const NASTY_STRINGS = [
  "",
  "\u0000",
  "a\u0000b",
  "\uD800",
  "\u202Eevil",
  "e\u0301\u0301\u0301",
  "🚢🚢",
  "yes",
  "__proto__",
  "constructor",
  " ",
  "../../etc/passwd",
  "${jndi:x}",
  "\r\n",
];
const NASTY_VALUES: unknown[] = [null, true, false, 0, -1, 1.5, 1e308, -0, [], {}, [null], { "": "" }, ...NASTY_STRINGS];

/** Every path into a JSON-like tree, the root included. */
export function pathsOf(v: unknown, at: Segment[] = []): Segment[][] {
  const out: Segment[][] = [at];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...pathsOf(x, [...at, i])));
  else if (v !== null && typeof v === "object") for (const [k, x] of Object.entries(v)) out.push(...pathsOf(x, [...at, k]));
  return out;
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

function getAt(root: unknown, path: Segment[]): unknown {
  let v = root;
  for (const s of path) v = (v as Record<Segment, unknown>)[s];
  return v;
}

function deep(depth: number, leaf: unknown): unknown {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { n: v };
  return v;
}

/**
 * One random mutation of a JSON-like value (the input is not modified). `what` says which
 * mutation at which path, for the failure message.
 */
export function mutateValue(input: unknown, rng: Rng, opts: { hugeBytes?: number } = {}): Mutation {
  const root = clone(input);
  const paths = pathsOf(root);
  const path = rng.pick(paths);
  const where = path.length ? path.join(".") : "(root)";
  const huge = opts.hugeBytes ?? 200_000;
  const op = rng.int(8);
  const replace = (v: unknown, what: string): Mutation => {
    if (path.length === 0) return { value: v, what: `${what} at (root)` };
    const parent = getAt(root, path.slice(0, -1)) as Record<Segment, unknown>;
    parent[path[path.length - 1]!] = v;
    return { value: root, what: `${what} at ${where}` };
  };
  switch (op) {
    case 0: {
      if (path.length === 0) return { value: undefined, what: "delete (root)" };
      const parent = getAt(root, path.slice(0, -1));
      const last = path[path.length - 1]!;
      if (Array.isArray(parent)) parent.splice(last as number, 1);
      else delete (parent as Record<string, unknown>)[last];
      return { value: root, what: `delete ${where}` };
    }
    case 1: {
      const parent = path.length ? getAt(root, path.slice(0, -1)) : undefined;
      if (Array.isArray(parent)) {
        parent.splice(path[path.length - 1] as number, 0, clone(getAt(root, path)));
        return { value: root, what: `duplicate ${where}` };
      }
      return replace([getAt(root, path), clone(getAt(root, path))], "wrap in a list");
    }
    case 2: {
      const v = rng.pick(NASTY_VALUES);
      return replace(clone(v), `retype to ${JSON.stringify(v)}`);
    }
    case 3:
      return replace("x".repeat(huge), `huge string (${huge} chars)`);
    case 4: {
      const depth = rng.pick([20, 200, 1000]);
      return replace(deep(depth, getAt(root, path)), `nest ${depth} deep`);
    }
    case 5: {
      const s = rng.pick(NASTY_STRINGS);
      const cur = getAt(root, path);
      return replace(typeof cur === "string" ? cur + s : s, `append ${JSON.stringify(s)}`);
    }
    case 6: {
      const target = getAt(root, path);
      if (target !== null && typeof target === "object" && !Array.isArray(target)) {
        const key = rng.pick(["unknownField", "__proto__", "", "\u0000", "Name"]);
        Object.defineProperty(target, key, { value: rng.pick(NASTY_VALUES), enumerable: true, configurable: true, writable: true });
        return { value: root, what: `add field ${JSON.stringify(key)} at ${where}` };
      }
      return replace({ unexpected: target }, "wrap in a mapping");
    }
    default: {
      const cur = getAt(root, path);
      return replace(Array.from({ length: rng.pick([10, 300]) }, () => clone(cur)), "repeat in a long list");
    }
  }
}

/** One random mutation of a text: truncate, NUL or odd bytes, duplicated or dropped lines. */
export function mutateText(text: string, rng: Rng): { text: string; what: string } {
  const at = rng.int(text.length + 1);
  const lines = text.split("\n");
  const li = rng.int(lines.length);
  switch (rng.int(6)) {
    case 0:
      return { text: text.slice(0, at), what: `truncate at ${at}` };
    case 1:
      return { text: text.slice(0, at) + "\u0000" + text.slice(at), what: `NUL at ${at}` };
    case 2: {
      const s = rng.pick(["\t", ":", "- ", "{", "[", "&a", "*a", "!!binary", "'", '"', "\uFEFF", "\uD800"]);
      return { text: text.slice(0, at) + s + text.slice(at), what: `insert ${JSON.stringify(s)} at ${at}` };
    }
    case 3:
      lines.splice(li, 0, lines[li]!);
      return { text: lines.join("\n"), what: `duplicate line ${li + 1}` };
    case 4:
      lines.splice(li, 1);
      return { text: lines.join("\n"), what: `drop line ${li + 1}` };
    default:
      return { text: text.slice(0, at) + text.slice(at + 1 + rng.int(20)), what: `cut bytes at ${at}` };
  }
}

/**
 * The seeds of a property test: N consecutive seeds from FLOTILLA_FUZZ_BASE (default 1), or only
 * FLOTILLA_FUZZ_SEED when set (to replay one printed case).
 */
export function fuzzSeeds(n: number): number[] {
  const one = process.env.FLOTILLA_FUZZ_SEED;
  if (one !== undefined && one !== "") return [Number(one)];
  const base = Number(process.env.FLOTILLA_FUZZ_BASE ?? 1);
  return Array.from({ length: n }, (_, i) => base + i);
}

/** Runs one case per seed; a failure is rethrown with its seed and how to replay it. */
export async function forEachSeed(n: number, run: (rng: Rng) => unknown | Promise<unknown>): Promise<number> {
  let count = 0;
  for (const seed of fuzzSeeds(n)) {
    try {
      await run(new Rng(seed));
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      throw new Error(`fuzz case seed=${seed} failed (replay: FLOTILLA_FUZZ_SEED=${seed}): ${msg}`, { cause: err });
    }
    count++;
  }
  return count;
}
