// `flotilla render`: preview what Flotilla renders.
//   flotilla render DIR                               like `kustomize build DIR`
//   flotilla render --repo PATH --cluster NAME [--app APP]   what a cluster receives at HEAD
import { relative, resolve } from "node:path";
import { FLEET_FILE, type KubeObject } from "@flotilla/model";
import { fsFileView, renderKustomization, toYamlStream } from "@flotilla/overlays";
import { openEnvRepo, readFleet, renderCluster } from "@flotilla/envrepo";
import { helpText, parseCommand, UsageError, type CommandSpec } from "../args.js";

export const renderCommand: CommandSpec = {
  name: "render",
  summary: "Print rendered manifests as multi-document YAML: a kustomization directory (a drop-in for `kustomize build DIR`), or what one cluster receives from an env repo at HEAD.",
  usage: "flotilla render DIR | flotilla render --repo PATH --cluster NAME [--app APP]",
  flags: [
    { name: "repo", type: "string", description: "env repo (local git repository) to render from, at HEAD" },
    { name: "cluster", type: "string", description: "cluster whose bundle to print (with --repo)" },
    { name: "app", type: "string", description: "only this app (with --repo)" },
  ],
};

export async function runRender(argv: string[]): Promise<number> {
  const p = parseCommand(renderCommand, argv);
  if (p.help) {
    console.log(helpText(renderCommand));
    return 0;
  }
  if (p.values.repo) return renderFromRepo(String(p.values.repo), p.values.cluster as string | undefined, p.values.app as string | undefined);
  const dir = p.positionals[0];
  if (!dir || p.positionals.length > 1) throw new UsageError(`flotilla render: give one kustomization directory, or --repo and --cluster\n\n${helpText(renderCommand)}`);
  // The view's root is the current directory (or the directory itself when it lies outside it),
  // so `../base` references work the way kustomize resolves them and paths escaping it are refused.
  const abs = resolve(dir);
  const cwd = process.cwd();
  const inside = !relative(cwd, abs).startsWith("..");
  const root = inside ? cwd : "/";
  const rel = relative(root, abs) || ".";
  const result = renderKustomization(fsFileView(root), rel);
  if (!result.ok) {
    process.stderr.write(`Error: ${result.error.message}\n`);
    return 1;
  }
  process.stdout.write(toYamlStream(result.objects));
  return 0;
}

async function renderFromRepo(path: string, cluster: string | undefined, app: string | undefined): Promise<number> {
  if (!cluster) throw new UsageError("flotilla render --repo: --cluster NAME is required");
  const repo = openEnvRepo(/^https?:\/\//.test(path) ? { url: path } : { path });
  const revision = await repo.fetch();
  const view = await repo.view(revision);
  const text = view.readFile(FLEET_FILE);
  if (!text) {
    process.stderr.write(`Error: ${path}: no ${FLEET_FILE} at the root of revision ${revision}\n`);
    return 1;
  }
  const fleet = readFleet(new TextDecoder().decode(text));
  if (!fleet.ok) {
    for (const e of fleet.errors) process.stderr.write(`Error: ${e.message}\n`);
    return 1;
  }
  const c = fleet.fleet.clusters.find((x) => x.name === cluster);
  if (!c) {
    process.stderr.write(`Error: cluster "${cluster}" is not in ${FLEET_FILE} (clusters: ${fleet.fleet.clusters.map((x) => x.name).join(", ")})\n`);
    return 1;
  }
  const r = renderCluster(view, fleet.fleet, c, revision);
  if (!r.ok) {
    for (const e of r.errors) process.stderr.write(`Error: ${e.message}\n`);
    return 1;
  }
  const apps = app ? r.bundle.apps.filter((a) => a.name === app) : r.bundle.apps;
  if (app && apps.length === 0) {
    process.stderr.write(`Error: app "${app}" does not run on cluster ${cluster} (apps: ${r.bundle.apps.map((a) => a.name).join(", ")})\n`);
    return 1;
  }
  const objects: KubeObject[] = apps.flatMap((a) => a.objects);
  process.stdout.write(`# cluster ${cluster} at revision ${revision}\n`);
  process.stdout.write(toYamlStream(objects));
  return 0;
}
