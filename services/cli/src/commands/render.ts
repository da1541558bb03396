// `flotilla render`: preview what Flotilla renders.
//   flotilla render DIR                               like `kustomize build DIR`
//   flotilla render --repo PATH|URL --cluster NAME [--app APP] [--branch B]   what a cluster receives
import { existsSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { FLEET_FILE, type KubeObject } from "@flotilla/model";
import { fsFileView, renderKustomization, toYamlStream } from "@flotilla/overlays";
import { appsForCluster, assembleCluster, openEnvRepo, readFleetBytes, renderApp, type EnvRepo } from "@flotilla/envrepo";
import { helpText, parseCommand, UsageError, type CommandSpec } from "../args.js";

export const renderCommand: CommandSpec = {
  name: "render",
  summary: "Print rendered manifests as multi-document YAML: a kustomization directory (a drop-in for `kustomize build DIR`), or what one cluster receives from an env repo at HEAD.",
  usage: "flotilla render DIR | flotilla render --repo PATH --cluster NAME [--app APP]",
  flags: [
    { name: "repo", type: "string", description: "env repo to render from, at HEAD: a local git repository (committed files only) or an http(s) URL" },
    { name: "cluster", type: "string", description: "cluster whose bundle to print (with --repo)" },
    { name: "app", type: "string", description: "only this app (with --repo)" },
    { name: "repo-token", env: "FLOTILLA_REPO_TOKEN", type: "string", description: "access token for an http(s) env repo (with --repo)" },
    { name: "branch", type: "string", description: "branch to render instead of HEAD / the remote's default branch (with --repo)" },
  ],
};

export async function runRender(argv: string[]): Promise<number> {
  const p = parseCommand(renderCommand, argv);
  if (p.help) {
    console.log(helpText(renderCommand));
    return 0;
  }
  if (p.values.repo) {
    if (p.positionals.length) throw new UsageError(`flotilla render: give a directory or --repo, not both\n\n${helpText(renderCommand)}`);
    const access = { token: p.values["repo-token"] as string | undefined, branch: p.values.branch as string | undefined };
    return renderFromRepo(String(p.values.repo), p.values.cluster as string | undefined, p.values.app as string | undefined, access);
  }
  if (p.values.cluster !== undefined || p.values.app !== undefined || p.values.branch !== undefined) {
    throw new UsageError("flotilla render: --cluster, --app and --branch go with --repo");
  }
  const dir = p.positionals[0];
  if (!dir || p.positionals.length > 1) throw new UsageError(`flotilla render: give one kustomization directory, or --repo and --cluster\n\n${helpText(renderCommand)}`);
  const abs = resolve(dir);
  const root = viewRoot(abs);
  const rel = relative(root, abs) || ".";
  const result = renderKustomization(fsFileView(root), rel);
  if (!result.ok) {
    process.stderr.write(`Error: ${displayPaths(result.error.message, root, rel)}\n`);
    return 1;
  }
  process.stdout.write(toYamlStream(result.objects));
  return 0;
}

/** Outside a repository the engine's paths are relative to "/": show them absolute. */
function displayPaths(message: string, root: string, rel: string): string {
  if (dirname(root) !== root || rel === ".") return message;
  const top = rel.split("/")[0]!.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  return message.replace(new RegExp(`(^|[\\s"'(])(${top}/)`, "g"), "$1/$2");
}

/**
 * The root of the file view, which paths may not leave: the Git work tree holding DIR (so `../base`
 * works as in the env repo, and a path leaving the repository fails as it would at the hub), or
 * the filesystem root outside any repository (so relative bases resolve as `kustomize build` does).
 */
function viewRoot(abs: string): string {
  for (let d = abs; ; d = dirname(d)) {
    if (existsSync(join(d, ".git"))) return d;
    if (dirname(d) === d) return d;
  }
}

async function renderFromRepo(
  path: string,
  cluster: string | undefined,
  app: string | undefined,
  access: { token: string | undefined; branch: string | undefined },
): Promise<number> {
  if (!cluster) throw new UsageError("flotilla render --repo: --cluster NAME is required");
  const branch = access.branch ? { branch: access.branch } : {};
  if (!/^https?:\/\//.test(path)) return renderRepoAt(openEnvRepo({ path: resolve(path), ...branch }), path, cluster, app);
  // A remote is cloned (without checkout) into a temporary directory, removed afterwards.
  const workDir = await mkdtemp(join(tmpdir(), "flotilla-render-"));
  try {
    return await renderRepoAt(openEnvRepo({ url: path, workDir, ...branch, ...(access.token ? { token: access.token } : {}) }), path, cluster, app);
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

async function renderRepoAt(repo: EnvRepo, path: string, cluster: string, app: string | undefined): Promise<number> {
  const revision = await repo.fetch();
  const view = await repo.view(revision);
  const text = view.readFile(FLEET_FILE);
  if (!text) return fail([`${path}: no ${FLEET_FILE} at the root of revision ${revision}`]);
  const fleet = readFleetBytes(text);
  if (!fleet.ok) return fail(fleet.errors.map((e) => e.message));
  const c = fleet.fleet.clusters.find((x) => x.name === cluster);
  if (!c) return fail([`cluster "${cluster}" is not in ${FLEET_FILE} (clusters: ${fleet.fleet.clusters.map((x) => x.name).join(", ")})`]);
  const apps = appsForCluster(fleet.fleet, c);
  const selected = app ? apps.filter((a) => a.name === app) : apps;
  if (app && selected.length === 0) {
    const why = fleet.fleet.apps.some((a) => a.name === app) ? `does not run on cluster ${cluster} (its selector)` : `is not in ${FLEET_FILE}`;
    return fail([`app "${app}" ${why}; apps on ${cluster}: ${apps.map((a) => a.name).join(", ") || "none"}`]);
  }
  // With --app only that app is rendered: another app's error does not hide its output.
  const r = assembleCluster(fleet.fleet, c, revision, selected.map((a) => ({ app: a, render: renderApp(view, fleet.fleet, a, c) })));
  for (const w of r.warnings) process.stderr.write(`Warning: ${w.message}\n`);
  if (!r.ok) return fail(r.errors.map((e) => e.message));
  const objects: KubeObject[] = r.bundle.apps.flatMap((a) => a.objects);
  process.stdout.write(`# cluster ${cluster} (environment ${c.environment}) at revision ${revision}${app ? `, app ${app}` : ""}\n`);
  process.stdout.write(toYamlStream(objects));
  return 0;
}

function fail(messages: string[]): number {
  for (const m of messages) process.stderr.write(`Error: ${m}\n`);
  return 1;
}
