// `flotilla context set|use|list|current`: named hubs and their tokens in the config file
// (FLOTILLA_CONFIG, default ~/.config/flotilla/config.yaml), like kubectl's contexts. Tokens are
// never printed; the file is written mode 0600.
import { UsageError } from "../args.js";
import { configPath, readConfig, writeConfig, type Context } from "../client/config.js";
import { positionals, runApi } from "../client/command.js";
import { printData, table } from "../client/output.js";
import { OUTPUT_FLAG } from "../client/command.js";

export const contextCommand = {
  name: "context",
  summary: "Manage named hub connections (contexts) in the config file.",
  usage:
    "flotilla context set NAME --hub URL [--token TOKEN | --token-file FILE] [--use]\n" +
    "       flotilla context use NAME\n" +
    "       flotilla context list [-o table|json|yaml]\n" +
    "       flotilla context current\n" +
    "       flotilla context delete NAME",
  flags: [
    { name: "hub", type: "string" as const, description: "set: the hub's fleet API URL" },
    { name: "token", type: "string" as const, description: "set: the API token, stored in the file (prefer --token-file)" },
    { name: "token-file", type: "string" as const, description: "set: a file holding the API token (read at each call)" },
    { name: "use", type: "boolean" as const, description: "set: make it the current context" },
    OUTPUT_FLAG,
  ],
};

export function runContext(argv: string[]): Promise<number> {
  const verb = argv[0] && !argv[0].startsWith("-") ? argv[0] : undefined;
  const spec = { ...contextCommand, name: verb ? `context ${verb}` : "context" };
  return runApi(spec, verb ? argv.slice(1) : argv, async (inv) => {
    const path = configPath();
    const config = readConfig(path);
    switch (verb) {
      case "set": {
        const [name] = positionals(inv, ["NAME"]) as [string];
        const old = config.contexts.find((c) => c.name === name);
        const hub = inv.str("hub") ?? old?.hub;
        if (!hub) throw new UsageError(`flotilla context set: --hub URL is required for a new context\nUsage: ${contextCommand.usage}`);
        try {
          new URL(hub);
        } catch {
          throw new UsageError(`flotilla context set: --hub "${hub}" is not a URL such as https://hub.example.com`);
        }
        const token = inv.str("token");
        const tokenFile = inv.str("token-file");
        if (token && tokenFile) throw new UsageError("flotilla context set: give --token or --token-file, not both");
        const auth = token ? { token } : tokenFile ? { tokenFile } : old ? { ...(old.token ? { token: old.token } : {}), ...(old.tokenFile ? { tokenFile: old.tokenFile } : {}) } : {};
        const next: Context = { name, hub, ...auth };
        config.contexts = old ? config.contexts.map((c) => (c.name === name ? next : c)) : [...config.contexts, next];
        if (inv.bool("use") || !config["current-context"]) config["current-context"] = name;
        writeConfig(path, config);
        console.error(`context "${name}" ${old ? "updated" : "added"} in ${path}${config["current-context"] === name ? " (current)" : ""}`);
        return 0;
      }
      case "use": {
        const [name] = positionals(inv, ["NAME"]) as [string];
        if (!config.contexts.some((c) => c.name === name)) throw new UsageError(`flotilla context use: no context "${name}" in ${path}${config.contexts.length ? ` (contexts: ${config.contexts.map((c) => c.name).join(", ")})` : ""}`);
        config["current-context"] = name;
        writeConfig(path, config);
        console.error(`switched to context "${name}"`);
        return 0;
      }
      case "delete": {
        const [name] = positionals(inv, ["NAME"]) as [string];
        if (!config.contexts.some((c) => c.name === name)) throw new UsageError(`flotilla context delete: no context "${name}" in ${path}`);
        config.contexts = config.contexts.filter((c) => c.name !== name);
        if (config["current-context"] === name) delete config["current-context"];
        writeConfig(path, config);
        console.error(`deleted context "${name}"`);
        return 0;
      }
      case "current": {
        positionals(inv, []);
        if (!config["current-context"]) {
          console.error(`flotilla context current: no current context in ${path}`);
          return 1;
        }
        console.log(config["current-context"]);
        return 0;
      }
      case "list":
      case undefined: {
        positionals(inv, []);
        const current = config["current-context"];
        const view = config.contexts.map((c) => ({ name: c.name, hub: c.hub, auth: c.tokenFile ? `tokenFile ${c.tokenFile}` : c.token ? "token (inline)" : "none", current: c.name === current }));
        if (printData(inv.format, { currentContext: current ?? null, contexts: view })) return 0;
        if (!view.length) console.log(`No contexts in ${path}; add one with flotilla context set NAME --hub URL --token-file FILE`);
        else console.log(table(["CURRENT", "NAME", "HUB", "AUTH"], view.map((c) => [c.current ? "*" : "", c.name, c.hub, c.auth])));
        return 0;
      }
      default:
        throw new UsageError(`flotilla context: unknown verb "${verb}"\nUsage: ${contextCommand.usage}`);
    }
  });
}
