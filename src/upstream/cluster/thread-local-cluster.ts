/**
 * One cluster on one worker (Envoy `ThreadLocalCluster`, cluster_manager_impl.h): its settings,
 * its hosts and the current picker. Endpoint updates replace `hosts` and the picker whole while
 * keeping the Host object of every address that remains.
 */

import type { Cluster, ClusterLoadAssignment } from '../../config/model';
import type { HostPicker, LbBuildOptions, LbContext, LbFactory } from '../lb/types';
import { clusterSettings, type CircuitBreakers, type ClusterSettings } from './cluster-info';
import { Host, type HealthStatus } from './host';
import { commonLbSettings, type CommonLbSettings } from './common-lb-config';
import { DEFAULT_OVERPROVISIONING_FACTOR, groupByPriority, PriorityPicker, type PriorityLoad } from './priority-set';

/** `Cluster.type` with Envoy's default (STATIC). */
export type ClusterType = NonNullable<Cluster['type']>;

const HASHING = new Set(['RING_HASH', 'MAGLEV']);

/**
 * Builds the host list of a ClusterLoadAssignment, reusing Host objects from `reuse` (keyed by
 * `ip:port`; entries are taken out of the map as they are reused, so what is left over in it is
 * the set of removed hosts). Endpoints without a `socket_address` are skipped.
 */
export function hostsFromAssignment(cla: ClusterLoadAssignment | undefined, reuse: Map<string, Host[]>): Host[] {
  const hosts: Host[] = [];
  for (const group of cla?.endpoints ?? []) {
    const priority = group.priority ?? 0;
    const localityWeight = group.load_balancing_weight ?? 0;
    for (const ep of group.lb_endpoints ?? []) {
      const sa = ep.endpoint?.address?.socket_address;
      if (sa === undefined) continue;
      const port = sa.port_value ?? 0;
      const key = sa.address.includes(':') ? `[${sa.address}]:${port}` : `${sa.address}:${port}`;
      const weight = ep.load_balancing_weight ?? 1;
      const status: HealthStatus = ep.health_status ?? 'UNKNOWN';
      // Envoy excludes DRAINING hosts from load balancing altogether (EDS_STATUS_DRAINING, runtime
      // exclude_host_in_eds_status_draining, on by default): they do not count as unhealthy hosts
      // in the panic calculation either.
      if (status === 'DRAINING') continue;
      const hostname = ep.endpoint.hostname ?? '';
      const same = reuse.get(key);
      const existing = same?.shift();
      if (same !== undefined && same.length === 0) reuse.delete(key);
      if (existing !== undefined) {
        existing.weight = weight;
        existing.priority = priority;
        existing.locality = group.locality;
        existing.hostname = hostname;
        existing.localityWeight = localityWeight;
        existing.setHealthStatus(status);
        hosts.push(existing);
      } else {
        const h = new Host(sa.address, port, hostname, weight, group.locality, priority, status);
        h.localityWeight = localityWeight;
        hosts.push(h);
      }
    }
  }
  return hosts;
}

/** Groups hosts by key for {@link hostsFromAssignment}'s reuse map. */
export function hostsByKey(hosts: readonly Host[]): Map<string, Host[]> {
  const m = new Map<string, Host[]>();
  for (const h of hosts) {
    const l = m.get(h.key);
    if (l === undefined) m.set(h.key, [h]);
    else l.push(h);
  }
  return m;
}

/** A cluster as a worker serves it. Create through {@link ClusterManager}. */
export class ThreadLocalCluster implements ClusterSettings {
  readonly name: string;
  /** `type`, default STATIC. */
  readonly type: ClusterType;
  /** `lb_policy`, default ROUND_ROBIN. */
  readonly lbPolicy: string;
  /** The cluster config this object was built from (frozen snapshot data). */
  readonly config: Cluster;
  readonly connectTimeoutMs: number;
  readonly perConnectionBufferLimitBytes: number;
  readonly circuitBreakers: CircuitBreakers;
  readonly idleTimeoutMs: number;
  readonly maxConnectionDurationMs: number;
  readonly maxRequestsPerConnection: number;
  readonly enableTrailers: boolean;
  /** Every host of the cluster, all priorities, healthy or not. Replaced whole on update. */
  hosts: readonly Host[] = [];
  /** Hosts the LB may pick as healthy (UNKNOWN/HEALTHY health_status). */
  healthyHostCount = 0;
  /** Current selector; replaced whole on update. */
  picker: HostPicker;
  /**
   * Picks made on this worker from a priority level in panic (Envoy cluster counter
   * `lb_healthy_panic`), whatever {@link lbHealthyPanicCounter} is.
   */
  lbHealthyPanic = 0;
  /**
   * The stats counter `cluster.<name>.lb_healthy_panic`, incremented with {@link lbHealthyPanic};
   * set by the stats glue (src/upstream/pool/pool-registry.ts) when it creates the cluster's stats.
   */
  lbHealthyPanicCounter: { inc(): void } | null = null;
  /** The parsed `common_lb_config` (panic threshold, locality weighting). */
  readonly commonLb: CommonLbSettings;
  /** The assignment the hosts came from (its JSON is compared to skip no-op updates). */
  loadAssignment: ClusterLoadAssignment | undefined;
  /** @internal JSON of {@link loadAssignment}. */
  assignmentJson = '';

  private readonly factory: LbFactory<any>;
  private readonly lbConfig: unknown;
  private readonly buildOpts: LbBuildOptions;
  private readonly onPanic = (): void => {
    this.lbHealthyPanic++;
    this.lbHealthyPanicCounter?.inc();
  };

  /**
   * @param reuse Host objects to keep (by key) from a previous version of the cluster; the ones
   *   taken are removed from the map.
   * @throws ConfigError / Error from the LB config or settings (the validator checks them first).
   */
  constructor(config: Cluster, factory: LbFactory<any>, buildOpts: LbBuildOptions, cla: ClusterLoadAssignment | undefined, reuse: Map<string, Host[]> = new Map()) {
    this.name = config.name;
    this.type = config.type ?? 'STATIC';
    this.lbPolicy = config.lb_policy ?? 'ROUND_ROBIN';
    this.config = config;
    const s = clusterSettings(config);
    this.connectTimeoutMs = s.connectTimeoutMs;
    this.perConnectionBufferLimitBytes = s.perConnectionBufferLimitBytes;
    this.circuitBreakers = s.circuitBreakers;
    this.idleTimeoutMs = s.idleTimeoutMs;
    this.maxConnectionDurationMs = s.maxConnectionDurationMs;
    this.maxRequestsPerConnection = s.maxRequestsPerConnection;
    this.enableTrailers = s.enableTrailers;
    this.factory = factory;
    this.lbConfig = factory.parseConfig(config);
    this.commonLb = commonLbSettings(config);
    this.buildOpts = buildOpts;
    this.picker = this.applyAssignment(cla, reuse);
  }

  /**
   * Picks a host for a request (Envoy `chooseHost`); in panic mode the host may be unhealthy.
   * @returns null: no healthy upstream (UH).
   */
  chooseHost(ctx?: LbContext): Host | null {
    return this.picker.chooseHost(ctx);
  }

  /** Priority load in use (percent per level, healthy and degraded). */
  get priorityLoad(): PriorityLoad {
    return (this.picker as PriorityPicker).load;
  }

  /**
   * Replaces the host set from an assignment, keeping Host objects whose `ip:port` remains.
   * @returns the hosts that left (their pools should drain).
   */
  updateAssignment(cla: ClusterLoadAssignment | undefined): Host[] {
    const reuse = hostsByKey(this.hosts);
    this.picker = this.applyAssignment(cla, reuse);
    const removed: Host[] = [];
    for (const l of reuse.values()) removed.push(...l);
    return removed;
  }

  /**
   * Changes one host's health (active health checking, outlier detection) and rebuilds the picker.
   * No-op when the status is unchanged.
   */
  setHostHealth(host: Host, status: HealthStatus): void {
    if (host.healthStatus === status) return;
    host.setHealthStatus(status);
    this.rebuild();
  }

  /** Rebuilds the picker from the current hosts (after their health flags changed). */
  rebuild(): void {
    this.picker = this.buildPicker(this.picker);
  }

  private applyAssignment(cla: ClusterLoadAssignment | undefined, reuse: Map<string, Host[]>): HostPicker {
    this.loadAssignment = cla;
    this.assignmentJson = JSON.stringify(cla ?? null);
    this.hosts = Object.freeze(hostsFromAssignment(cla, reuse));
    return this.buildPicker(this.picker as HostPicker | undefined);
  }

  private buildPicker(previous: HostPicker | undefined): HostPicker {
    let healthy = 0;
    for (const h of this.hosts) if (h.healthy) healthy++;
    this.healthyHostCount = healthy;
    const factor = this.loadAssignment?.policy?.overprovisioning_factor ?? DEFAULT_OVERPROVISIONING_FACTOR;
    const prev = previous instanceof PriorityPicker ? previous : undefined;
    return new PriorityPicker(groupByPriority(this.hosts), this.factory, this.lbConfig, this.buildOpts, {
      overprovisioningFactor: factor,
      hashing: HASHING.has(this.lbPolicy),
      panicThreshold: this.commonLb.panicThreshold,
      localityWeighted: this.commonLb.localityWeighted,
      onPanic: this.onPanic,
    }, prev);
  }
}
