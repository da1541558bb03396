// The NATS pod of a deploy/nats build as the reloader sidecar sees it. nats-server reads its
// configuration and its TLS files only at start and on a reload; the reloader sends that reload
// (SIGHUP to the pid in nats-server's pid_file, in the shared process namespace) when one of the
// files it watches (its -config arguments) changes. So every file nats.conf names must be watched,
// at a path the reloader mounts from the same volume nats-server reads it from.
import type { KubeObject } from "@flotilla/model";

export interface PodContainer {
  name: string;
  args?: string[];
  volumeMounts?: { name: string; mountPath: string }[];
}

export interface NatsPod {
  shareProcessNamespace?: boolean;
  nats: PodContainer;
  reloader: PodContainer;
  /** nats-config's files (nats.conf and the files it includes), as the pod mounts them. */
  config: Record<string, string>;
}

/** The StatefulSet `nats` and ConfigMap `nats-config` of a build. */
export function natsPod(objects: KubeObject[]): NatsPod {
  const sts = objects.find((o) => o.kind === "StatefulSet" && o.metadata.name === "nats") as
    | (KubeObject & { spec: { template: { spec: { shareProcessNamespace?: boolean; containers: PodContainer[] } } } })
    | undefined;
  const cm = objects.find((o) => o.kind === "ConfigMap" && o.metadata.name === "nats-config") as (KubeObject & { data: Record<string, string> }) | undefined;
  if (!sts || !cm) throw new Error("the build has no StatefulSet nats or no ConfigMap nats-config");
  const { shareProcessNamespace, containers } = sts.spec.template.spec;
  const container = (name: string) => {
    const c = containers.find((x) => x.name === name);
    if (!c) throw new Error(`StatefulSet nats has no container ${name} (has ${containers.map((x) => x.name).join(", ")})`);
    return c;
  };
  return { shareProcessNamespace, nats: container("nats"), reloader: container("reloader"), config: cm.data };
}

/** The reloader's arguments: the pid file it signals and the files it watches. */
export function reloaderWatch(reloader: PodContainer): { pidFile: string | undefined; watched: string[] } {
  const args = reloader.args ?? [];
  const valuesOf = (flag: string) => args.flatMap((a, i) => (a === flag && args[i + 1] !== undefined ? [args[i + 1]!] : []));
  return { pidFile: valuesOf("-pid")[0], watched: valuesOf("-config") };
}

/** A setting's quoted values in nats-config's files, leaving out commented lines. */
export function settingValues(config: Record<string, string>, setting: string): string[] {
  const line = new RegExp(`^\\s*${setting}\\s*[:=]\\s*"([^"]+)"`);
  return Object.values(config).flatMap((text) => text.split("\n").flatMap((l) => line.exec(l)?.[1] ?? []));
}

/** The TLS files nats-server reads (cert_file, key_file, ca_file of every tls block). */
export const tlsFilesOf = (config: Record<string, string>): string[] =>
  ["cert_file", "key_file", "ca_file"].flatMap((s) => settingValues(config, s)).sort();

/** The volume a container sees `path` from: the one mounted at the longest directory holding it. */
export function volumeAt(container: PodContainer, path: string): string | undefined {
  const holding = (container.volumeMounts ?? []).filter((m) => path === m.mountPath || path.startsWith(`${m.mountPath.replace(/\/$/, "")}/`));
  return holding.sort((a, b) => b.mountPath.length - a.mountPath.length)[0]?.name;
}
