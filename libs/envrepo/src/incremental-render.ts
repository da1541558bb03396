// Rendering the fleet commit after commit without redoing work that cannot have changed.
//
// What an app renders on a cluster depends only on the files it read (the overlay engine reports
// them as readPaths) and on which layer directory holds a kustomization. So, per (app, cluster)
// pair, the renderer keeps { source directory, readPaths, watched directories, render } of the
// last revision; on the next commit a pair is rendered again only when a changed path is one it
// read, or lies directly in a directory whose listing decides the result (a layer candidate, a
// kustomization directory, the plain-manifest directory). A change to the fleet itself (the
// fleet file) renders everything again.
//
// Within one commit, pairs that build the same directory (every cluster of an environment without
// a cluster overlay) share one build: the result depends on the directory, not on the cluster.
// Rendered objects are therefore shared between bundles: treat them as read-only.
import { FLEET_FILE, type App, type Bundle, type ErrorInfo, type Fleet } from "@flotilla/model";
import type { FileView } from "./file-view.js";
import { appsForCluster } from "./fleet-policy.js";
import { KUSTOMIZATION_FILES } from "./kustomize-seam.js";
import { pinLocked, releaseLockFor } from "./release-locks.js";
import { appSource, assembleCluster, layerCandidates, renderAppSource, type AppRender, type AppSource, type ClusterRender, type RenderOptions } from "./render.js";

export type FleetRender = { ok: true; bundles: Bundle[]; warnings: ErrorInfo[] } | { ok: false; errors: ErrorInfo[]; warnings: ErrorInfo[] };

export interface RenderCounts {
  /** (app, cluster) pairs rendered at this revision (their inputs changed, or nothing was cached). */
  rendered: number;
  /** Pairs whose render of the previous revision was reused. */
  reused: number;
  /** Directory builds actually run (pairs that build the same directory share one). */
  builds: number;
  /** Clusters whose whole bundle content was reused (only the revision changed). */
  clustersReused: number;
}

export type IncrementalFleetRender = FleetRender & { counts: RenderCounts };

export interface IncrementalRenderer {
  /** The revision of the last render call (what `changedPaths` must be relative to); "" before any. */
  readonly revision: string;
  /**
   * Renders every cluster at `revision`. `changedPaths` lists the files changed since the previous
   * call's revision (EnvRepo.changedPaths(renderer.revision, revision)); without it, or when the
   * fleet file or the fleet changed, every pair is rendered again.
   */
  render(view: FileView, fleet: Fleet, revision: string, changedPaths?: readonly string[]): IncrementalFleetRender;
  /** Forgets every cached render. */
  reset(): void;
}

/** One directory build shared by the pairs that use it at one revision. */
interface Build {
  render: AppRender;
  readPaths: Set<string>;
  /** Directories whose entries decide the result (kustomization dirs, the plain-manifest dir). */
  listed: Set<string>;
}

interface PairEntry {
  source: AppSource;
  /** `app \0 kind \0 dir`: pairs with the same key build the same thing. */
  buildKey: string;
  /** The app's layer candidates for this cluster: a kustomization appearing in one changes the source. */
  candidates: string[];
  build: Build;
}

interface ClusterEntry {
  /** The builds the bundle was assembled from, in app order: all the same objects = same bundle. */
  builds: Build[];
  /** Each app's release lock as read (parsed once per blob, so an unchanged lock is the same object). */
  locks: unknown[];
  result: ClusterRender;
}

export function createIncrementalRenderer(opts: RenderOptions = {}): IncrementalRenderer {
  let revision = "";
  let fleetKey = "";
  let lastFleet: Fleet | undefined;
  let pairs = new Map<string, PairEntry>();
  let clusters = new Map<string, ClusterEntry>();

  function reset(): void {
    revision = "";
    fleetKey = "";
    lastFleet = undefined;
    pairs = new Map();
    clusters = new Map();
  }

  function render(view: FileView, fleet: Fleet, rev: string, changedPaths?: readonly string[]): IncrementalFleetRender {
    const key = fleet === lastFleet ? fleetKey : JSON.stringify(fleet);
    const full = changedPaths === undefined || changedPaths.includes(FLEET_FILE) || key !== fleetKey;
    if (full) {
      pairs = new Map();
      clusters = new Map();
    }
    const changed = new Set(full ? [] : changedPaths);
    const changedDirs = new Set([...changed].map(parentDir));
    const counts: RenderCounts = { rendered: 0, reused: 0, builds: 0, clustersReused: 0 };
    // Per build: still valid at this revision? (computed once, shared by every pair using it)
    const stillValid = new Map<Build, boolean>();
    const valid = (b: Build) => {
      let v = stillValid.get(b);
      if (v === undefined) {
        v = b.render.ok && !anyIn(b.readPaths, changed) && !anyIn(b.listed, changedDirs);
        stillValid.set(b, v);
      }
      return v;
    };
    // Builds of this revision by (app, source): pairs that build the same directory share one.
    const fresh = new Map<string, Build>();
    const nextPairs = new Map<string, PairEntry>();
    const nextClusters = new Map<string, ClusterEntry>();

    const bundles: Bundle[] = [];
    const errors = new Map<string, ErrorInfo>();
    const warnings = new Map<string, ErrorInfo>();
    const keyOf = (e: ErrorInfo) => `${e.code}\u0000${e.message}`;

    for (const cluster of fleet.clusters) {
      const renders: { app: App; render: AppRender }[] = [];
      const builds: Build[] = [];
      const locks: unknown[] = [];
      for (const app of appsForCluster(fleet, cluster)) {
        const pairKey = `${app.name}\u0000${cluster.name}`;
        const cached = pairs.get(pairKey);
        let entry: PairEntry;
        if (cached && valid(cached.build) && !anyIn(cached.candidates, changedDirs)) {
          entry = cached;
          counts.reused++;
          // Still valid at this revision: a pair that must be rendered again and lands on the
          // same directory can take it too.
          if (!fresh.has(cached.buildKey)) fresh.set(cached.buildKey, cached.build);
        } else {
          const source = appSource(view, app, cluster);
          const buildKey = `${app.name}\u0000${source.kind}\u0000${source.dir}`;
          let build = fresh.get(buildKey);
          if (!build) {
            build = buildOf(view, app, source, opts);
            fresh.set(buildKey, build);
            counts.builds++;
          }
          entry = { source, buildKey, candidates: layerCandidates(app, cluster), build };
          counts.rendered++;
        }
        nextPairs.set(pairKey, entry);
        // Release locks pin images per cluster (one wave at a time): applied to the shared build.
        const lock = releaseLockFor(view, app, cluster);
        locks.push(lock.ok ? lock.lock : lock.error.message);
        renders.push({ app, render: pinLocked(app, entry.build.render, lock) });
        builds.push(entry.build);
      }
      const prev = clusters.get(cluster.name);
      let result: ClusterRender;
      if (prev && sameBuilds(prev.builds, builds) && sameBuilds(prev.locks, locks)) {
        result = prev.result.ok ? { ...prev.result, bundle: { ...prev.result.bundle, revision: rev } } : prev.result;
        counts.clustersReused++;
      } else {
        result = assembleCluster(fleet, cluster, rev, renders);
      }
      nextClusters.set(cluster.name, { builds, locks, result });
      for (const w of result.warnings) warnings.set(keyOf(w), w);
      if (result.ok) bundles.push(result.bundle);
      else for (const e of result.errors) errors.set(keyOf(e), e);
    }

    revision = rev;
    fleetKey = key;
    lastFleet = fleet;
    pairs = nextPairs;
    clusters = nextClusters;
    const w = [...warnings.values()];
    return errors.size ? { ok: false, errors: [...errors.values()], warnings: w, counts } : { ok: true, bundles, warnings: w, counts };
  }

  return {
    get revision() {
      return revision;
    },
    render,
    reset,
  };
}

/**
 * Renders every cluster of the fleet. Errors are de-duplicated: a broken file of an app that
 * runs on ten clusters is reported once.
 */
export function renderFleet(view: FileView, fleet: Fleet, revision: string, opts: RenderOptions = {}): FleetRender {
  const { counts, ...result } = createIncrementalRenderer(opts).render(view, fleet, revision);
  void counts;
  return result;
}

function buildOf(view: FileView, app: App, source: AppSource, opts: RenderOptions): Build {
  const render = renderAppSource(view, app, source, opts);
  const readPaths = new Set(render.ok ? render.readPaths : []);
  const listed = new Set<string>([source.dir]);
  // The engine reports kustomization directories among the files it read: their listing matters
  // (a second kustomization file, a new file in a directory resource).
  for (const p of readPaths) {
    if (p.endsWith("/")) listed.add(p.replace(/\/+$/, "") || ".");
    else if (view.listDir(p) !== undefined) listed.add(p === "" ? "." : p);
    else if (KUSTOMIZATION_FILES.some((n) => p.endsWith(`/${n}`) || p === n)) listed.add(parentDir(p));
  }
  return { render, readPaths, listed };
}

function sameBuilds<T>(a: T[], b: T[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function anyIn(items: Iterable<string>, set: Set<string>): boolean {
  if (set.size === 0) return false;
  for (const i of items) if (set.has(i)) return true;
  return false;
}

/** `apps/shop/base/x.yaml` → `apps/shop/base`; a file at the root → `.`. */
function parentDir(path: string): string {
  const i = path.lastIndexOf("/");
  return i < 0 ? "." : path.slice(0, i);
}
