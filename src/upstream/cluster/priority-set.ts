/**
 * Priority levels, priority load and panic mode (Envoy `LoadBalancerBase::
 * recalculatePerPriorityState`, `recalculatePerPriorityPanic`, `recalculateLoadInTotalPanic`,
 * `isHostSetInPanic`, `choosePriority`, and `ZoneAwareLoadBalancerBase::hostSourceToUse` in
 * source/extensions/load_balancing_policies/common/load_balancer_impl.cc; arch overview
 * "Priority levels", "Panic threshold", "Locality weighted load balancing").
 *
 * Per level: health = min(100, overprovisioning_factor% × healthy / hosts), degraded likewise
 * (host counts, not weights: Envoy's default without `weighted_priority_health`). Load 100 is given
 * to healthy levels in priority order (each at most `health × 100 / normalized_total`), what is
 * left to degraded levels, rounding leftovers to the first available level. A pick draws 1..100
 * (random, or `hash % 100 + 1` for hashing LBs) and walks the cumulative loads.
 *
 * Panic (`common_lb_config.healthy_panic_threshold`, default 50%, 0 disables): unless the normalized
 * total availability is 100, a level whose (healthy + degraded) percentage of hosts is below the
 * threshold is in panic, and a pick that lands on it chooses among ALL its hosts, whatever their
 * health (counter `lb_healthy_panic`). When every level is in panic (total panic, e.g. no healthy
 * host anywhere) the load is split by host count instead; with no host at all, or with panic
 * disabled and nothing available, P0 gets 100% (and, with no eligible host, the pick fails: 503 UH).
 *
 * Locality weighted balancing (`common_lb_config.locality_weighted_lb_config`, non-hashing policies
 * only): outside panic, the level's healthy (or degraded) hosts are split per locality and a
 * locality is chosen by EDF over its effective weight `load_balancing_weight × min(1,
 * overprovisioning_factor% × eligible / hosts)` (Envoy `HostSetImpl::effectiveLocalityWeight`);
 * the cluster's LB then picks within that locality. Localities without a weight get none; when no
 * locality has an effective weight, the level's hosts are balanced as a whole. Zone-aware routing
 * is not implemented.
 */

import type { Host } from './host';
import { EdfScheduler } from '../lb/edf-scheduler';
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

/** Envoy's default `common_lb_config.healthy_panic_threshold` (percent). */
export const DEFAULT_HEALTHY_PANIC_THRESHOLD = 50;

/** Per-level health and degraded availability (0..100) with the overprovisioning factor applied. */
function availability(levels: readonly PriorityLevel[], overprovisioningFactor: number): { health: number[]; degraded: number[]; normalizedTotal: number } {
  const n = levels.length;
  const health = new Array<number>(n).fill(0);
  const degraded = new Array<number>(n).fill(0);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const total = levels[i].hosts.length;
    if (total === 0) continue;
    health[i] = Math.min(100, Math.floor((overprovisioningFactor * levels[i].healthy.length) / total));
    degraded[i] = Math.min(100, Math.floor((overprovisioningFactor * levels[i].degraded.length) / total));
    sum += health[i] + degraded[i];
  }
  return { health, degraded, normalizedTotal: Math.min(100, sum) };
}

/**
 * Envoy's per-priority load. `overprovisioningFactor` in percent (ClusterLoadAssignment
 * `policy.overprovisioning_factor`, default 140). All zeros when nothing is available (see
 * {@link computePriorityState} for the load with panic mode applied).
 */
export function computePriorityLoad(levels: readonly PriorityLevel[], overprovisioningFactor = DEFAULT_OVERPROVISIONING_FACTOR): PriorityLoad {
  const n = levels.length;
  const { health, degraded: degradedAvail, normalizedTotal } = availability(levels, overprovisioningFactor);
  const healthy = new Array<number>(n).fill(0);
  const degraded = new Array<number>(n).fill(0);
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
 * Envoy `isHostSetInPanic`: (healthy + degraded) percent of the level's hosts below the threshold
 * (an empty level has 0%).
 */
export function isLevelInPanic(level: PriorityLevel, panicThreshold: number): boolean {
  const n = level.hosts.length;
  const pct = n === 0 ? 0 : (100 * level.healthy.length) / n + (100 * level.degraded.length) / n;
  return pct < panicThreshold;
}

/** Priority load with panic applied, and which levels are in panic. */
export interface PriorityState {
  readonly load: PriorityLoad;
  readonly panic: boolean[];
}

/**
 * Envoy `recalculatePerPriorityState` + `recalculatePerPriorityPanic` +
 * `recalculateLoadInTotalPanic`. `panicThreshold` in percent (0..100; 0 disables panic).
 */
export function computePriorityState(levels: readonly PriorityLevel[], overprovisioningFactor = DEFAULT_OVERPROVISIONING_FACTOR, panicThreshold = DEFAULT_HEALTHY_PANIC_THRESHOLD): PriorityState {
  const n = levels.length;
  const load = computePriorityLoad(levels, overprovisioningFactor);
  const panic = new Array<boolean>(n).fill(false);
  if (n === 0) return { load, panic };
  const { normalizedTotal } = availability(levels, overprovisioningFactor);
  const threshold = Math.min(100, panicThreshold);
  if (threshold === 0 && normalizedTotal === 0) {
    // Panic disabled and nothing available: 100% to P0, where the pick finds no host (503 UH).
    load.healthy[0] = 100;
    return { load, panic };
  }
  let totalPanic = true;
  for (let i = 0; i < n; i++) {
    // Never in panic while the levels together are 100% available.
    panic[i] = normalizedTotal === 100 ? false : isLevelInPanic(levels[i], threshold);
    totalPanic &&= panic[i];
  }
  if (totalPanic) {
    // Load by host count, whatever the hosts' health; leftovers to the first non-empty level.
    let total = 0;
    for (const l of levels) total += l.hosts.length;
    load.degraded.fill(0);
    if (total === 0) {
      load.healthy.fill(0);
      load.healthy[0] = 100;
      return { load, panic };
    }
    let left = 100;
    let firstNonEmpty = -1;
    for (let i = 0; i < n; i++) {
      const c = levels[i].hosts.length;
      if (firstNonEmpty === -1 && c !== 0) firstNonEmpty = i;
      load.healthy[i] = Math.floor((100 * c) / total);
      left -= load.healthy[i];
    }
    load.healthy[firstNonEmpty] += left;
  }
  return { load, panic };
}

/** One locality of a level for locality-weighted balancing. */
interface LocalityEntry {
  readonly picker: HostPicker;
  readonly effectiveWeight: number;
}

/** Envoy's `LocalityLess`: region, then zone, then sub_zone. */
function compareLocality(a: Host, b: Host): number {
  const la = a.locality;
  const lb = b.locality;
  for (const k of ['region', 'zone', 'sub_zone'] as const) {
    const x = la?.[k] ?? '';
    const y = lb?.[k] ?? '';
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

/** Picks a locality by EDF over effective weights, then a host with that locality's picker. */
class LocalityPicker implements HostPicker {
  constructor(private readonly edf: EdfScheduler<LocalityEntry>) {}
  chooseHost(ctx: LbContext | undefined): Host | null {
    const e = this.edf.pickAndAdd();
    return e === null ? null : e.picker.chooseHost(ctx);
  }
}

const effectiveWeightOf = (e: LocalityEntry): number => e.effectiveWeight;

/**
 * Envoy's healthy (or degraded) locality scheduler of a host set (`HostSetImpl::
 * rebuildLocalityScheduler`, `effectiveLocalityWeight`), with one picker of the cluster's LB per
 * locality. @returns null when no locality has a positive effective weight.
 */
export function buildLocalityPicker(level: PriorityLevel, eligible: readonly Host[], factory: LbFactory<any>, config: unknown, opts: LbBuildOptions, overprovisioningFactor: number): HostPicker | null {
  if (eligible.length === 0) return null;
  const all = [...level.hosts].sort(compareLocality);
  const entries: LocalityEntry[] = [];
  for (let i = 0; i < all.length; ) {
    let j = i + 1;
    while (j < all.length && compareLocality(all[i], all[j]) === 0) j++;
    const inLocality = new Set(all.slice(i, j));
    const hosts = eligible.filter((h) => inLocality.has(h));
    const ratio = Math.min(1, (overprovisioningFactor / 100) * (hosts.length / (j - i)));
    const w = all[i].localityWeight * ratio;
    if (w > 0) entries.push({ picker: factory.build(hosts, config, opts), effectiveWeight: w });
    i = j;
  }
  if (entries.length === 0) return null;
  return new LocalityPicker(new EdfScheduler(entries, effectiveWeightOf, opts.seed));
}

/** How a {@link PriorityPicker} balances, from the cluster's `common_lb_config`. */
export interface PriorityPickerOptions {
  /** ClusterLoadAssignment `policy.overprovisioning_factor` in percent (default 140). */
  overprovisioningFactor: number;
  /**
   * true for RING_HASH/MAGLEV: the priority draw uses the request hash, as Envoy's
   * `ThreadAwareLoadBalancerBase` does, and locality weights are not applied.
   */
  hashing: boolean;
  /** `healthy_panic_threshold` in percent, default 50; 0 disables panic. */
  panicThreshold: number;
  /** `locality_weighted_lb_config` is set. */
  localityWeighted: boolean;
  /** Called once per pick that lands on a level in panic (Envoy counter `lb_healthy_panic`). */
  onPanic?: () => void;
}

/**
 * The cluster's picker: chooses a priority level (and healthy or degraded hosts) by priority load,
 * then delegates to that source's LB picker (all hosts of the level in panic; one locality's with
 * locality weights). Immutable except for the LB pickers' own cursors.
 */
export class PriorityPicker implements HostPicker {
  /** Set when one source takes 100% of the load (the common case): no draw per pick. */
  private readonly single: HostPicker | null;
  /** Whether {@link single} is a level in panic. */
  private readonly singlePanic: boolean;
  /** Picker per level for healthy hosts (EMPTY_PICKER when none). */
  readonly healthyPickers: HostPicker[];
  /** Picker per level for degraded hosts. */
  readonly degradedPickers: HostPicker[];
  /** The loads in use. */
  readonly load: PriorityLoad;
  /** Per level: in panic (picks among all its hosts). */
  readonly panic: readonly boolean[];
  private readonly hashing: boolean;
  private readonly random: () => number;
  private readonly onPanic: () => void;

  /**
   * @param previous the picker this one replaces: its per-source pickers are passed to the
   *   factory as `previous` (round-robin cursor carry-over).
   */
  constructor(levels: readonly PriorityLevel[], factory: LbFactory<any>, config: unknown, opts: LbBuildOptions, po: PriorityPickerOptions, previous?: PriorityPicker) {
    const state = computePriorityState(levels, po.overprovisioningFactor, po.panicThreshold);
    this.load = state.load;
    this.panic = state.panic;
    this.hashing = po.hashing;
    this.random = opts.random;
    this.onPanic = po.onPanic ?? (() => {});
    this.healthyPickers = [];
    this.degradedPickers = [];
    const localities = po.localityWeighted && !po.hashing;
    let single: HostPicker | null = null;
    let singlePanic = false;
    let sources = 0;
    for (let i = 0; i < levels.length; i++) {
      const hLoad = this.load.healthy[i];
      const dLoad = this.load.degraded[i];
      let hp: HostPicker = EMPTY_PICKER;
      let dp: HostPicker = EMPTY_PICKER;
      if (state.panic[i]) {
        // Envoy HostsSource AllHosts: whichever availability the draw chose.
        if (hLoad > 0 || dLoad > 0) hp = dp = factory.build(levels[i].hosts, config, { ...opts, previous: previous?.healthyPickers[i] });
      } else {
        if (hLoad > 0) {
          hp = (localities ? buildLocalityPicker(levels[i], levels[i].healthy, factory, config, opts, po.overprovisioningFactor) : null)
            ?? factory.build(levels[i].healthy, config, { ...opts, previous: previous?.healthyPickers[i] });
        }
        if (dLoad > 0) {
          dp = (localities ? buildLocalityPicker(levels[i], levels[i].degraded, factory, config, opts, po.overprovisioningFactor) : null)
            ?? factory.build(levels[i].degraded, config, { ...opts, previous: previous?.degradedPickers[i] });
        }
      }
      this.healthyPickers.push(hp);
      this.degradedPickers.push(dp);
      if (hLoad === 100) single = hp;
      if (dLoad === 100) single = dp;
      if (hLoad === 100 || dLoad === 100) singlePanic = state.panic[i];
      if (hLoad > 0) sources++;
      if (dLoad > 0) sources++;
    }
    this.single = sources === 0 ? EMPTY_PICKER : single;
    this.singlePanic = singlePanic;
  }

  chooseHost(ctx: LbContext | undefined): Host | null {
    if (this.single !== null) {
      if (this.singlePanic) this.onPanic();
      return this.single.chooseHost(ctx);
    }
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
      if (h <= acc) {
        if (this.panic[i]) this.onPanic();
        return this.healthyPickers[i].chooseHost(ctx);
      }
    }
    const degraded = this.load.degraded;
    for (let i = 0; i < degraded.length; i++) {
      acc += degraded[i];
      if (h <= acc) {
        if (this.panic[i]) this.onPanic();
        return this.degradedPickers[i].chooseHost(ctx);
      }
    }
    return null;
  }
}
