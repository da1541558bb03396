// The fleet file (`flotilla.yaml`, format v0 — docs/env-repo.md): parsed as YAML 1.1 and checked
// by hand, so every error names the file, the line and the field, and says what would be valid.
import {
  DriftPolicy,
  FLEET_API_VERSION,
  FLEET_FILE,
  FleetFileError,
  values,
  type App,
  type Cluster,
  type Environment,
  type Fleet,
  type IgnoreRule,
  type SecretPolicy,
} from "@flotilla/model";
import { readPromotionPolicy, type FieldChecker } from "./fleet-promotion.js";
import { fieldName, lineAt, parseYamlStream, type YamlDoc } from "./yaml-source.js";

/** DNS label (RFC 1123): cluster names are also NATS subject tokens and KV key parts. */
export const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

export type FleetResult = { ok: true; fleet: Fleet } | { ok: false; errors: FleetFileError[] };

/** Parses and checks a fleet file; throws the first FleetFileError. */
export function parseFleet(text: string, file: string = FLEET_FILE): Fleet {
  const r = readFleet(text, file);
  if (!r.ok) throw r.errors[0]!;
  return r.fleet;
}

/** Parses and checks a fleet file; returns every error found (failures as data). */
export function readFleet(text: string, file: string = FLEET_FILE): FleetResult {
  const parsed = parseYamlStream(text);
  if ("error" in parsed) {
    const { line, column, message } = parsed.error;
    return { ok: false, errors: [new FleetFileError(`${file}:${line}: invalid YAML: ${message}`, { file, line, column })] };
  }
  if (parsed.docs.length !== 1) {
    const msg = parsed.docs.length === 0 ? "is empty" : `holds ${parsed.docs.length} YAML documents; keep exactly one`;
    return { ok: false, errors: [new FleetFileError(`${file}: ${msg}`, { file })] };
  }
  // toJS throws on what the parser accepts: an alias to an anchor defined later (ReferenceError),
  // an alias bomb past maxAliasCount; those are a bad file, not a crash.
  let root: unknown;
  try {
    root = parsed.docs[0]!.doc.toJS();
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    return { ok: false, errors: [new FleetFileError(`${file}: invalid YAML: ${message}`, { file })] };
  }
  const checker = new FleetChecker(parsed.docs[0]!, root, file);
  const fleet = checker.fleet();
  return checker.errors.length > 0 ? { ok: false, errors: checker.errors } : { ok: true, fleet };
}

const parsedByBlob = new WeakMap<Uint8Array, FleetResult>();

/**
 * readFleet over the fleet file's bytes, remembered per blob: a CommitView hands out the same
 * bytes for an unchanged file, so a commit that leaves the fleet file alone does not parse it
 * again (1,000 clusters take ~100 ms to parse). The result is shared: never modify it.
 */
export function readFleetBytes(bytes: Uint8Array, file: string = FLEET_FILE): FleetResult {
  const hit = parsedByBlob.get(bytes);
  if (hit && file === FLEET_FILE) return hit;
  const r = readFleet(new TextDecoder().decode(bytes), file);
  if (file === FLEET_FILE) parsedByBlob.set(bytes, r);
  return r;
}

type Path = (string | number)[];
type Obj = Record<string, unknown>;

const ENV_FIELDS = ["name", "drift", "prune", "ignore", "requireDigests", "secrets", "promotion"];
const CLUSTER_FIELDS = ["name", "environment", "labels", "namespaces"];
const APP_FIELDS = ["name", "path", "selector", "drift", "prune", "ignore"];
const SELECTOR_FIELDS = ["matchLabels", "environments", "clusters"];
const IGNORE_FIELDS = ["kind", "group", "name", "namespace", "paths"];
const SECRET_POLICIES: SecretPolicy[] = ["allow", "warn", "refuse"];

class FleetChecker implements FieldChecker {
  readonly errors: FleetFileError[] = [];
  constructor(
    private readonly y: YamlDoc,
    private readonly root: unknown,
    private readonly file: string,
  ) {}

  fleet(): Fleet {
    const top = this.object(this.root, []);
    if (!top) return { apiVersion: "", environments: [], clusters: [], apps: [] };
    this.onlyFields(top, [], ["apiVersion", "environments", "clusters", "apps"]);
    if (top.apiVersion !== FLEET_API_VERSION) {
      this.fail(["apiVersion"], `must be "${FLEET_API_VERSION}"${top.apiVersion === undefined ? "" : ` (found ${JSON.stringify(top.apiVersion)})`}`);
    }
    const rawEnvs = this.list(top, ["environments"], true);
    const environments = rawEnvs.map((e, i) => this.environment(e, ["environments", i]));
    this.unique(environments, "environments");
    const envNames = environments.map((e) => e.name);
    const clusters = this.list(top, ["clusters"], false).map((c, i) => this.cluster(c, ["clusters", i], envNames));
    this.unique(clusters, "clusters");
    // The pipeline needs every environment (upstreams) and cluster (waves) named first.
    environments.forEach((env, i) => {
      const raw = rawEnvs[i] as Obj | undefined;
      if (raw && typeof raw === "object" && raw.promotion !== undefined) {
        env.promotion = readPromotionPolicy(this, raw.promotion, ["environments", i, "promotion"], env, envNames.slice(0, i), clusters);
      }
    });
    const apps = this.list(top, ["apps"], false).map((a, i) => this.app(a, ["apps", i], envNames, clusters.map((c) => c.name)));
    this.unique(apps, "apps");
    return { apiVersion: FLEET_API_VERSION, environments, clusters, apps };
  }

  private environment(v: unknown, path: Path): Environment {
    const o = this.object(v, path) ?? {};
    this.onlyFields(o, path, ENV_FIELDS);
    const env: Environment = { name: this.name(o, path) };
    this.policies(o, path, env);
    if (o.requireDigests !== undefined) env.requireDigests = this.bool(o.requireDigests, [...path, "requireDigests"]);
    if (o.secrets !== undefined) env.secrets = this.oneOf(o.secrets, [...path, "secrets"], SECRET_POLICIES) as SecretPolicy;
    return env;
  }

  private cluster(v: unknown, path: Path, envNames: string[]): Cluster {
    const o = this.object(v, path) ?? {};
    this.onlyFields(o, path, CLUSTER_FIELDS);
    const cluster: Cluster = { name: this.name(o, path), environment: "", labels: {} };
    if (o.environment === undefined) this.fail([...path, "environment"], `is missing; set one of the environments (${envNames.join(", ")})`);
    else if (typeof o.environment !== "string" || !envNames.includes(o.environment)) {
      this.fail([...path, "environment"], `${JSON.stringify(o.environment)} is not one of the environments (${envNames.join(", ")})`);
    } else cluster.environment = o.environment;
    if (o.labels !== undefined) cluster.labels = this.stringMap(o.labels, [...path, "labels"]);
    if (o.namespaces !== undefined) {
      cluster.namespaces = this.stringList(o.namespaces, [...path, "namespaces"], { dnsLabel: true, nonEmpty: true });
    }
    return cluster;
  }

  private app(v: unknown, path: Path, envNames: string[], clusterNames: string[]): App {
    const o = this.object(v, path) ?? {};
    this.onlyFields(o, path, APP_FIELDS);
    const app: App = { name: this.name(o, path), path: "" };
    if (typeof o.path !== "string" || o.path.trim() === "") this.fail([...path, "path"], "is missing; set the repo directory of the app (e.g. apps/shop)");
    else {
      const norm = normalizeAppPath(o.path);
      if (norm === undefined) this.fail([...path, "path"], `"${o.path}" leaves the repository; use a path inside it`);
      else app.path = norm;
    }
    if (o.selector !== undefined) {
      const sp = [...path, "selector"];
      const s = this.object(o.selector, sp) ?? {};
      this.onlyFields(s, sp, SELECTOR_FIELDS);
      const selector: NonNullable<App["selector"]> = {};
      if (s.matchLabels !== undefined) selector.matchLabels = this.stringMap(s.matchLabels, [...sp, "matchLabels"]);
      if (s.environments !== undefined) selector.environments = this.stringList(s.environments, [...sp, "environments"], { among: ["environments", envNames] });
      if (s.clusters !== undefined) selector.clusters = this.stringList(s.clusters, [...sp, "clusters"], { among: ["clusters", clusterNames] });
      app.selector = selector;
    }
    this.policies(o, path, app);
    return app;
  }

  private policies(o: Obj, path: Path, into: Environment | App): void {
    if (o.drift !== undefined) into.drift = this.oneOf(o.drift, [...path, "drift"], values(DriftPolicy)) as DriftPolicy;
    if (o.prune !== undefined) into.prune = this.bool(o.prune, [...path, "prune"]);
    if (o.ignore !== undefined) {
      const ip = [...path, "ignore"];
      if (!Array.isArray(o.ignore)) this.fail(ip, "must be a list of {kind?, group?, name?, namespace?, paths}");
      else into.ignore = o.ignore.map((r, i) => this.ignoreRule(r, [...ip, i]));
    }
  }

  private ignoreRule(v: unknown, path: Path): IgnoreRule {
    const o = this.object(v, path) ?? {};
    this.onlyFields(o, path, IGNORE_FIELDS);
    const rule: IgnoreRule = { paths: [] };
    for (const k of ["kind", "group", "name", "namespace"] as const) {
      const val = o[k];
      if (val === undefined) continue;
      if (typeof val !== "string") this.fail([...path, k], "must be a string");
      else rule[k] = val;
    }
    const pp = [...path, "paths"];
    if (o.paths === undefined) this.fail(pp, 'is missing; list JSON pointers such as "/spec/replicas"');
    else {
      rule.paths = this.stringList(o.paths, pp, { nonEmpty: true });
      rule.paths.forEach((p, i) => {
        if (!p.startsWith("/")) this.fail([...pp, i], `"${p}" is not a JSON pointer; write it like "/spec/replicas"`);
      });
    }
    return rule;
  }

  // --- small checks -------------------------------------------------------------------------

  private name(o: Obj, path: Path): string {
    const v = o.name;
    if (v === undefined) {
      this.fail([...path, "name"], "is missing");
      return "";
    }
    if (typeof v !== "string" || !DNS_LABEL.test(v)) {
      this.fail([...path, "name"], `${JSON.stringify(v)} is not a DNS label (lowercase letters, digits and '-', at most 63, starting and ending alphanumeric)`);
      return typeof v === "string" ? v : "";
    }
    return v;
  }

  object(v: unknown, path: Path): Obj | undefined {
    if (v !== null && typeof v === "object" && !Array.isArray(v)) return v as Obj;
    this.fail(path, path.length === 0 ? "must be a mapping with apiVersion, environments, clusters and apps" : "must be a mapping");
    return undefined;
  }

  private list(o: Obj, path: Path, required: boolean): unknown[] {
    const v = o[path[path.length - 1] as string];
    if (v === undefined || v === null) {
      if (required) this.fail(path, "is missing; list at least one");
      return [];
    }
    if (!Array.isArray(v)) {
      this.fail(path, "must be a list");
      return [];
    }
    if (required && v.length === 0) this.fail(path, "is empty; list at least one");
    return v;
  }

  onlyFields(o: Obj, path: Path, allowed: string[]): void {
    for (const k of Object.keys(o)) {
      if (!allowed.includes(k)) this.fail([...path, k], `is not a known field; expected one of ${allowed.join(", ")}`, true);
    }
  }

  bool(v: unknown, path: Path): boolean {
    if (typeof v === "boolean") return v;
    this.fail(path, `${JSON.stringify(v)} must be true or false`);
    return false;
  }

  private oneOf(v: unknown, path: Path, allowed: readonly string[]): string {
    if (typeof v === "string" && allowed.includes(v)) return v;
    this.fail(path, `${JSON.stringify(v)} is not one of ${allowed.join(", ")}`);
    return allowed[0]!;
  }

  stringMap(v: unknown, path: Path): Record<string, string> {
    const o = this.object(v, path);
    const out: Record<string, string> = {};
    for (const [k, val] of Object.entries(o ?? {})) {
      if (typeof val === "string") out[k] = val;
      else this.fail([...path, k], `${JSON.stringify(val)} must be a string; quote it (YAML 1.1 reads yes/no/on/off and numbers as non-strings)`);
    }
    return out;
  }

  stringList(v: unknown, path: Path, opts: { dnsLabel?: boolean; nonEmpty?: boolean; among?: [string, string[]] }): string[] {
    if (!Array.isArray(v)) {
      this.fail(path, "must be a list of strings");
      return [];
    }
    if (opts.nonEmpty && v.length === 0) this.fail(path, "is empty; list at least one or remove the field");
    const out: string[] = [];
    v.forEach((item, i) => {
      if (typeof item !== "string") return this.fail([...path, i], `${JSON.stringify(item)} must be a string`);
      if (opts.dnsLabel && !DNS_LABEL.test(item)) return this.fail([...path, i], `"${item}" is not a DNS label`);
      if (opts.among && !opts.among[1].includes(item)) {
        return this.fail([...path, i], `"${item}" is not one of the ${opts.among[0]} (${opts.among[1].join(", ")})`);
      }
      out.push(item);
    });
    return out;
  }

  private unique(items: { name: string }[], field: string): void {
    const seen = new Map<string, number>();
    items.forEach((item, i) => {
      if (!item.name) return;
      const first = seen.get(item.name);
      if (first !== undefined) this.fail([field, i, "name"], `"${item.name}" is already used by ${field}[${first}]; names must be unique`);
      else seen.set(item.name, i);
    });
  }

  fail(path: Path, what: string, atKey = false): void {
    const line = lineAt(this.y, path, { key: atKey });
    const field = fieldName(path);
    const where = line ? `${this.file}:${line}` : this.file;
    this.errors.push(new FleetFileError(`${where}: ${field ? `${field} ` : ""}${what}`, { file: this.file, ...(line ? { line } : {}), ...(field ? { field } : {}) }));
  }
}

/** `./apps/shop/` → `apps/shop`; undefined when the path climbs out of the repo. */
function normalizeAppPath(p: string): string | undefined {
  const out: string[] = [];
  for (const seg of p.trim().split("/")) {
    if (seg === "" || seg === ".") continue;
    if (seg === "..") {
      if (out.length === 0) return undefined;
      out.pop();
    } else out.push(seg);
  }
  return out.length ? out.join("/") : undefined;
}
