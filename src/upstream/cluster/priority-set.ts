/**
 * Priority levels and priority load (Envoy `LoadBalancerBase::recalculatePerPriorityState`,
 * `distributeLoad`, `choosePriority` in source/extensions/load_balancing_policies/common/
 * load_balancer_impl.cc; arch overview "Priority levels").
 *
 * Per level: health = min(100, overprovisioning_factor% × healthy / hosts), degraded likewise
 * (host counts, not weights: Envoy's default without `weighted_priority_health`). Load 100 is given
 * to healthy levels in priority order (each at most `health × 100 / normalized_total`), what is
 * left to degraded levels, rounding leftovers to the first available level. A pick draws 1..100
 * (random, or `hash % 100 + 1` for hashing LBs) and walks the cumulative loads.
 *
 * Deviation: no panic mode (`healthy_panic_threshold`). When no level has a healthy or degraded
 * host the picker returns null (the router answers 503 "no healthy upstream", flag UH), where
 * Envoy would load-balance across all hosts. Locality-weighted and zone-aware routing are not
 * implemented (hosts carry their locality for later).
 */

import type { Host } from './host';
import { EMPTY_PICKER, lastHashHi, lastHashLo, mod64, readHash, type HostPicker, type LbBuildOptions, type LbContext, type LbFactory } from '../lb/types';

/** Envoy's default `policy.overprovisioning_factor` (percent). */
export const DEFAULT_OVERPROVISIONING_FACTOR = 140;

/** Hosts of one priority level, split by coarse health. */
export interface PriorityLevel {
  readonly priority: number;
  readonly hosts: readonly Host[];
  readonly healthy: readonly Host[];
  readonly degraded: readonly Host[];
}

/** Percent of traffic per level for healthy and degraded hosts; the two arrays sum to 100 (or 0). */
export interface PriorityLoad {
  readonly healthy: number[];
  readonly degraded: number[];
}

/** Groups hosts into dense levels 0..max priority (empty levels included, as Envoy). */
export function groupByPriority(hosts: readonly Host[]): PriorityLevel[] {
  let max = -1;
  for (const h of hosts) max = Math.max(max, h.priority);
  const levels: Array<{ priority: number; hosts: Host[]; healthy: Host[]; degraded: Host[] }> = [];
  for (let p = 0; p <= max; p++) levels.push({ priority: p, hosts: [], healthy: [], degraded: [] });
  for (const h of hosts) {
    const l = levels[h.priority];
    l.hosts.push(h);
    if (h.healthy) l.healthy.push(h);
    else if (h.degraded) l.degraded.push(h);
  }
  return levels;
}

function distributeLoad(load: number[], availability: number[], total: number, normalizedTotal: number): [number, number] {
  let first = -1;
  for (let i = 0; i < availability.length; i++) {
    if (first < 0 && availability[i] > 0) first = i;
    load[i] = Math.min(total, Math.floor((availability[i] * 100) / normalizedTotal));
    total -= load[i];
  }
  return [first, total];
}

/**
 * Envoy's per-priority load. `overprovisioningFactor` in percent (ClusterLoadAssignment
 * `policy.overprovisioning_factor`, default 140). All zeros when nothing is available.
 */
export function computePriorityLoad(levels: readonly PriorityLevel[], overprovisioningFactor = DEFAULT_OVERPROVISIONING_FACTOR): PriorityLoad {
  const n = levels.length;
  const health = new Array<number>(n).fill(0);
  const degradedAvail = new Array<number>(n).fill(0);
  for (let i = 0; i < n; i++) {
    const total = levels[i].hosts.length;
    if (total === 0) continue;
    health[i] = Math.min(100, Math.floor((overprovisioningFactor * levels[i].healthy.length) / total));
    degradedAvail[i] = Math.min(100, Math.floor((overprovisioningFactor * levels[i].degraded.length) / total));
  }
  const healthy = new Array<number>(n).fill(0);
  const degraded = new Array<number>(n).fill(0);
  let sum = 0;
  for (let i = 0; i < n; i++) sum += health[i] + degradedAvail[i];
  const normalizedTotal = Math.min(100, sum);
  if (normalizedTotal === 0) return { healthy, degraded };
  const [firstHealthy, rest] = distributeLoad(healthy, health, 100, normalizedTotal);
  const [firstDegraded, left] = distributeLoad(degraded, degradedAvail, rest, normalizedTotal);
  if (left !== 0) {
    if (firstHealthy !== -1) healthy[firstHealthy] += left;
    else degraded[firstDegraded] += left;
  }
  return { healthy, degraded };
}

/**
 * The cluster's picker: chooses a priority level (and healthy or degraded hosts) by priority load,
 * then delegates to that source's LB picker. Immutable except for the LB pickers' own cursors.
 */
export class PriorityPicker implements HostPicker {
  /** Set when one source takes 100% of the load (the common case): no draw per pick. */
  private readonly single: HostPicker | null;
  /** Picker per level for healthy hosts (EMPTY_PICKER when none). */
  readonly healthyPickers: HostPicker[];
  /** Picker per level for degraded hosts. */
  readonly degradedPickers: HostPicker[];
  /** The loads in use. */
  readonly load: PriorityLoad;
  private readonly hashing: boolean;
  private readonly random: () => number;

  /**
   * @param hashing true for RING_HASH/MAGLEV: the priority draw uses the request hash, as Envoy's
   *   `ThreadAwareLoadBalancerBase` does.
   * @param previous the picker this one replaces: its per-source pickers are passed to the
   *   factory as `previous` (round-robin cursor carry-over).
   */
  constructor(levels: readonly PriorityLevel[], factory: LbFactory<any>, config: unknown, opts: LbBuildOptions, overprovisioningFactor: number, hashing: boolean, previous?: PriorityPicker) {
    this.load = computePriorityLoad(levels, overprovisioningFactor);
    this.hashing = hashing;
    this.random = opts.random;
    this.healthyPickers = [];
    this.degradedPickers = [];
    let single: HostPicker | null = null;
    let sources = 0;
    for (let i = 0; i < levels.length; i++) {
      const hp = this.load.healthy[i] > 0 ? factory.build(levels[i].healthy, config, { ...opts, previous: previous?.healthyPickers[i] }) : EMPTY_PICKER;
      const dp = this.load.degraded[i] > 0 ? factory.build(levels[i].degraded, config, { ...opts, previous: previous?.degradedPickers[i] }) : EMPTY_PICKER;
      this.healthyPickers.push(hp);
      this.degradedPickers.push(dp);
      if (this.load.healthy[i] === 100) single = hp;
      if (this.load.degraded[i] === 100) single = dp;
      if (this.load.healthy[i] > 0) sources++;
      if (this.load.degraded[i] > 0) sources++;
    }
    this.single = sources === 0 ? EMPTY_PICKER : single;
  }

  chooseHost(ctx: LbContext | undefined): Host | null {
    if (this.single !== null) return this.single.chooseHost(ctx);
    let h: number;
    if (this.hashing) {
      readHash(ctx, this.random);
      h = mod64(lastHashHi(), lastHashLo(), 100) + 1;
    } else {
      h = Math.floor((ctx?.random ?? this.random)() * 100) + 1;
    }
    const healthy = this.load.healthy;
    let acc = 0;
    for (let i = 0; i < healthy.length; i++) {
      acc += healthy[i];
      if (h <= acc) return this.healthyPickers[i].chooseHost(ctx);
    }
    const degraded = this.load.degraded;
    for (let i = 0; i < degraded.length; i++) {
      acc += degraded[i];
      if (h <= acc) return this.degradedPickers[i].chooseHost(ctx);
    }
    return null;
  }
}
