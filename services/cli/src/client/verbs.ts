// Commands with verbs (`flotilla break-glass open …`, `flotilla promote show …`): each verb has its
// own flags, usage and --help; the group's --help (or no verb) lists the verbs.
import { UsageError, type CommandSpec } from "../args.js";
import { runApi, withApiFlags, type Invocation } from "./command.js";

export interface Verb {
  /** `open`, or `release create` for a verb of two words. */
  name: string;
  summary: string;
  /** Everything after `flotilla <group> <verb>`. */
  usage: string;
  flags: CommandSpec["flags"];
  /** Verbs that only print what they changed may still have -o (the API's answer). */
  output?: boolean;
  run: (inv: Invocation) => Promise<number>;
}

export function groupUsage(group: string, summary: string, verbs: Verb[]): string {
  const w = Math.max(...verbs.map((v) => v.name.length));
  return [summary, "", `Usage: flotilla ${group} <verb> [flags]`, "", "Verbs:", ...verbs.map((v) => `  ${v.name.padEnd(w)}  ${v.summary}`), "", `Run "flotilla ${group} <verb> --help" for its flags.`].join("\n");
}

/** Finds the verb (one or two words) and runs it with its own spec, so its name shows in errors. */
export async function runVerbs(group: string, summary: string, verbs: Verb[], argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const [first, second] = argv;
  if (first === undefined || first === "--help" || first === "-h" || first === "help") {
    // Asked for: stdout, exit 0. No verb at all is a usage error: stderr, exit 2.
    if (first === undefined) {
      console.error(groupUsage(group, summary, verbs));
      return 2;
    }
    console.log(groupUsage(group, summary, verbs));
    return 0;
  }
  const two = second !== undefined ? verbs.find((v) => v.name === `${first} ${second}`) : undefined;
  const verb = two ?? verbs.find((v) => v.name === first);
  if (!verb) {
    const sub = verbs.filter((v) => v.name.startsWith(`${first} `));
    const hint = sub.length ? `"${first}" needs one of: ${sub.map((v) => v.name.split(" ")[1]).join(", ")}` : `unknown verb "${first}"`;
    throw new UsageError(`flotilla ${group}: ${hint}\n\n${groupUsage(group, summary, verbs)}`);
  }
  const spec = withApiFlags({ name: `${group} ${verb.name}`, summary: verb.summary, usage: `flotilla ${group} ${verb.name} ${verb.usage}`, flags: verb.flags }, { output: verb.output !== false });
  return runApi(spec, argv.slice(verb.name.split(" ").length), verb.run, env);
}
