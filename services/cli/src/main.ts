#!/usr/bin/env node
// The `flotilla` command: one binary, one subcommand per component.
import { FlotillaError } from "@flotilla/model";
import { UsageError } from "./args.js";

const commands: Record<string, { summary: string; run: (argv: string[]) => Promise<number> }> = {
  hub: { summary: "run the hub (resolver, ingest, fleet API)", run: async (a) => (await import("./commands/hub.js")).runHub(a) },
  agent: { summary: "run a cluster agent", run: async (a) => (await import("./commands/agent.js")).runAgent(a) },
  render: { summary: "print what a kustomization directory or a cluster renders to", run: async (a) => (await import("./commands/render.js")).runRender(a) },
  token: { summary: "mint, list and revoke fleet API tokens", run: async (a) => (await import("./commands/token.js")).runToken(a) },
  "nats-config": { summary: "write per-agent NATS permissions and credentials", run: async (a) => (await import("./commands/nats-config.js")).runNatsConfig(a) },
  status: { summary: "show the fleet, one cluster, or the environment × cluster × app matrix", run: async (a) => (await import("./commands/status.js")).runStatus(a) },
  explain: { summary: "explain why a cluster is (not) running an app at a revision", run: async (a) => (await import("./commands/explain.js")).runExplain(a) },
  drift: { summary: "list drift events from the drift ledger", run: async (a) => (await import("./commands/drift.js")).runDrift(a) },
  history: { summary: "show the desired pointers a cluster was issued", run: async (a) => (await import("./commands/history.js")).runHistory(a) },
  provenance: { summary: "show what runs where and why: revision, author, agent, release, images", run: async (a) => (await import("./commands/provenance.js")).runProvenance(a) },
  "break-glass": { summary: "open, list and close break-glass windows (audited, expiring suspensions of drift enforcement)", run: async (a) => (await import("./commands/break-glass.js")).runBreakGlass(a) },
  promote: { summary: "record releases and promote them through the pipeline: start, show, approve, rollback, --wait", run: async (a) => (await import("./commands/promote.js")).runPromote(a) },
  context: { summary: "manage named hub connections (contexts) for the fleet commands", run: async (a) => (await import("./commands/context.js")).runContext(a) },
  demo: { summary: "walk the GitOps lab end to end on two local clusters", run: async (a) => (await import("./demo/demo.js")).runDemo(a) },
};

function usage(): string {
  const lines = ["Flotilla — GitOps fleet manager for Kubernetes", "", "Usage: flotilla <command> [flags]", "", "Commands:"];
  for (const [name, c] of Object.entries(commands)) lines.push(`  ${name.padEnd(12)} ${c.summary}`);
  lines.push("", 'Run "flotilla <command> --help" for its flags.');
  return lines.join("\n");
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    console.log(usage());
    return name ? 0 : 2;
  }
  const cmd = commands[name];
  if (!cmd) {
    console.error(`flotilla: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  try {
    return await cmd.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(err.message);
      return 2;
    }
    if (err instanceof FlotillaError) {
      console.error(`flotilla ${name}: ${err.code}: ${err.message}`);
      return 1;
    }
    console.error(`flotilla ${name}: ${(err as Error)?.stack ?? String(err)}`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
