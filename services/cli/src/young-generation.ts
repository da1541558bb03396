// The agent's and the hub's young generation stays small. V8 grows the semi-spaces (where new
// objects are allocated) up to 16 MB each while a burst allocates a lot — the agent's first sync
// of hundreds of objects, the hub's parse of a 1,000-cluster fleet file and render of every
// bundle — and never gives those pages back: ~30 MB of an idle agent's resident memory, and
// 20–45 MB of a hub's at 1,000 clusters, retained for processes that allocate little between
// bursts (docs/benchmarks.md: agent footprint, hub memory).
//
// --max-semi-space-size is fixed when the heap is created, so it can only come from the command
// line; the growth factor is read each time V8 grows the space, so setting it to 1 at start keeps
// the semi-spaces at their initial size. The cost is more frequent (small, cheap) scavenges.
import { setFlagsFromString } from "node:v8";

/** V8 flags an operator can pass (node flags or NODE_OPTIONS) to size the young generation. */
const YOUNG_GENERATION_FLAGS = /--(max-semi-space-size|semi-space-growth-factor|min-semi-space-size)\b/;

/**
 * Keeps the young generation at its initial size for the rest of the process, unless the
 * operator sized it (then their flags win). Returns whether it changed anything.
 */
export function keepYoungGenerationSmall(execArgv: readonly string[] = process.execArgv, env: NodeJS.ProcessEnv = process.env): boolean {
  if (execArgv.some((a) => YOUNG_GENERATION_FLAGS.test(a)) || YOUNG_GENERATION_FLAGS.test(env["NODE_OPTIONS"] ?? "")) return false;
  setFlagsFromString("--semi-space-growth-factor=1");
  return true;
}
