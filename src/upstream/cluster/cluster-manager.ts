/**
 * The per-worker cluster manager (Envoy `ClusterManagerImpl::ThreadLocalClusterManagerImpl`):
 * compiles the snapshot's `clusters` and `endpoints` into {@link ThreadLocalCluster}s and applies
 * CDS/EDS/DNS updates, keeping Host objects (and with them pools and counters) for addresses that
 * remain. Workers share nothing: each builds its own manager from the snapshot.
 *
 * Endpoint source per cluster: `snapshot.endpoints[name]` when present (EDS, and DNS clusters the
 * main thread resolved), else the cluster's own `load_assignment` (STATIC).
 */

import type { Cluster, ClusterLoadAssignment, ConfigSnapshot } from '../../config/model';
import { defaultXxhash64, lbFactoryFor, LB_FACTORIES } from '../lb/index';
import type { Hash64Fn, LbBuildOptions, LbFactory } from '../lb/types';
import { commonLbSettings } from './common-lb-config';
import type { Host } from './host';
import { hostsByKey, ThreadLocalCluster } from './thread-local-cluster';

/** Options of a {@link ClusterManager}. */
export interface ClusterManagerOptions {
  /**
   * LB seed for every cluster (round-robin start index, EDF pre-picks). Default: a random u32 per
   * cluster, as Envoy's per-LB `seed_`. Tests pass 0 for picks starting at the first host.
   */
  seed?: number;
  /** [0,1) source for the random, least-request and priority draws. Default Math.random. */
  random?: () => number;
  /** xxHash64 for ring hash / Maglev tables. Default src/native `xxhash64`. */
  xxhash64?: Hash64Fn;
  /** LB factories by lb_policy (tests inject fakes). Default the built-in registry. */
  lbFactories?: ReadonlyMap<string, LbFactory<any>>;
}

/** What {@link ClusterManager.update} changed. */
export interface ClusterUpdateResult {
  added: string[];
  /** Clusters whose config changed: rebuilt as new objects, Host objects kept by address. */
  modified: string[];
  removed: string[];
  /** Clusters whose config was unchanged but whose endpoints changed. */
  endpointsUpdated: string[];
  /** Hosts no longer in any cluster version: the caller drains their pools. */
  removedHosts: Host[];
}

/**
 * Checks what a worker would reject in a cluster's LB config (lb_policy, its config block,
 * `common_lb_config.healthy_panic_threshold`, durations). For the main thread's validator.
 * @throws ConfigError (or Error for a malformed duration).
 */
export function validateClusterLb(cluster: Cluster, factories: ReadonlyMap<string, LbFactory<any>> = LB_FACTORIES): void {
  lbFactoryFor(cluster, factories).parseConfig(cluster);
  commonLbSettings(cluster);
}

/** Per-worker clusters by name. */
export class ClusterManager {
  private readonly clusters = new Map<string, ThreadLocalCluster>();
  private readonly opts: Required<Pick<ClusterManagerOptions, 'random' | 'xxhash64'>> & ClusterManagerOptions;
  private readonly factories: ReadonlyMap<string, LbFactory<any>>;

  /**
   * @throws ConfigError when a cluster's lb_policy or LB config is unsupported or invalid
   *   (nothing is half-built: the manager is not returned).
   */
  constructor(clusters: readonly Cluster[], endpoints: Readonly<Record<string, ClusterLoadAssignment>> = {}, opts: ClusterManagerOptions = {}) {
    this.opts = { ...opts, random: opts.random ?? Math.random, xxhash64: opts.xxhash64 ?? defaultXxhash64 };
    this.factories = opts.lbFactories ?? LB_FACTORIES;
    for (const c of clusters) this.clusters.set(c.name, this.create(c, endpoints));
  }

  /** The cluster called `name` (Envoy `getThreadLocalCluster`), or undefined (router: 503 NC). */
  get(name: string): ThreadLocalCluster | undefined {
    return this.clusters.get(name);
  }

  /** Cluster names. */
  names(): IterableIterator<string> {
    return this.clusters.keys();
  }

  /** All clusters (admin /clusters). */
  all(): IterableIterator<ThreadLocalCluster> {
    return this.clusters.values();
  }

  /**
   * EDS/DNS update of one cluster: rebuilds its hosts and picker (swapped whole), keeping the Host
   * objects of addresses that remain.
   * @returns the removed hosts (drain their pools); [] for an unknown cluster.
   */
  updateEndpoints(clusterName: string, cla: ClusterLoadAssignment): Host[] {
    const c = this.clusters.get(clusterName);
    if (c === undefined) return [];
    return c.updateAssignment(cla);
  }

  /**
   * Applies a new snapshot's clusters and endpoints (CDS add/modify/remove, EDS changes).
   * Unchanged clusters (same config and endpoints JSON) are left untouched. A modified cluster
   * becomes a new object (in-flight requests keep the old one) that reuses the Host objects of
   * addresses that remain.
   * @throws ConfigError for an invalid LB config in a new or modified cluster; clusters processed
   *   before it are already applied (the validator on main rejects such snapshots first).
   */
  update(snapshot: Pick<ConfigSnapshot, 'clusters' | 'endpoints'>): ClusterUpdateResult {
    const result: ClusterUpdateResult = { added: [], modified: [], removed: [], endpointsUpdated: [], removedHosts: [] };
    const endpoints = snapshot.endpoints ?? {};
    const seen = new Set<string>();
    for (const cfg of snapshot.clusters) {
      seen.add(cfg.name);
      const old = this.clusters.get(cfg.name);
      if (old === undefined) {
        this.clusters.set(cfg.name, this.create(cfg, endpoints));
        result.added.push(cfg.name);
        continue;
      }
      const cla = endpoints[cfg.name] ?? cfg.load_assignment;
      if (old.config !== cfg && JSON.stringify(old.config) !== JSON.stringify(cfg)) {
        const reuse = hostsByKey(old.hosts);
        this.clusters.set(cfg.name, this.create(cfg, endpoints, reuse));
        for (const l of reuse.values()) result.removedHosts.push(...l);
        result.modified.push(cfg.name);
      } else if (JSON.stringify(cla ?? null) !== old.assignmentJson) {
        result.removedHosts.push(...old.updateAssignment(cla));
        result.endpointsUpdated.push(cfg.name);
      }
    }
    for (const [name, c] of this.clusters) {
      if (seen.has(name)) continue;
      this.clusters.delete(name);
      result.removed.push(name);
      result.removedHosts.push(...c.hosts);
    }
    return result;
  }

  private create(cfg: Cluster, endpoints: Readonly<Record<string, ClusterLoadAssignment>>, reuse?: Map<string, Host[]>): ThreadLocalCluster {
    const factory = lbFactoryFor(cfg, this.factories);
    const buildOpts: LbBuildOptions = {
      seed: this.opts.seed ?? Math.floor(Math.random() * 0x1_0000_0000),
      random: this.opts.random,
      xxhash64: this.opts.xxhash64,
    };
    return new ThreadLocalCluster(cfg, factory, buildOpts, endpoints[cfg.name] ?? cfg.load_assignment, reuse);
  }
}
