/**
 * RING_HASH (Envoy `RingHashLoadBalancer::Ring`, source/extensions/load_balancing_policies/
 * ring_hash/ring_hash_lb.cc): a ketama-style consistent-hash ring.
 *
 * Build, as Envoy: weights normalised to sum 1; `scale = min(ceil(minWeight * minimum_ring_size) /
 * minWeight, maximum_ring_size)`; walking the hosts in order with running sums, each host gets
 * entries `xxHash64("<ip:port>_<i>", seed 0)` (or `<hostname>_<i>` with
 * `common_lb_config.consistent_hashing_lb_config.use_hostname_for_hashing`) until the running
 * count reaches `scale * weight`; entries sorted by hash. Pick: the first entry whose hash is ≥ the
 * request hash, wrapping to the first entry (`ketama_get_server`).
 *
 * The ring is stored as two Uint32Arrays (hash high/low halves) so lookups compare numbers.
 * Not implemented: MURMUR_HASH_2 (rejected), hash_balance_factor (bounded load), retry attempts,
 * locality weights (`locality_weighted_lb_config` applies to the other policies only).
 */

import { ConfigError } from '../../common/errors';
import type { Cluster } from '../../config/model';
import type { Host } from '../cluster/host';
import { EMPTY_PICKER, lastHashHi, lastHashLo, readHash, type HostPicker, type LbBuildOptions, type LbContext, type LbFactory } from './types';

/** Envoy `DefaultMinRingSize`. */
export const DEFAULT_MIN_RING_SIZE = 1024;
/** Envoy `DefaultMaxRingSize` (8M). */
export const DEFAULT_MAX_RING_SIZE = 1024 * 1024 * 8;

/** Parsed `ring_hash_lb_config` (+ the common consistent-hashing option). */
export interface RingHashConfig {
  minimumRingSize: number;
  maximumRingSize: number;
  useHostnameForHashing: boolean;
}

/** Reads `common_lb_config.consistent_hashing_lb_config.use_hostname_for_hashing`. */
export function useHostnameForHashing(cluster: Cluster): boolean {
  const chc = (cluster.common_lb_config as { consistent_hashing_lb_config?: { use_hostname_for_hashing?: boolean } } | undefined)?.consistent_hashing_lb_config;
  return chc?.use_hostname_for_hashing === true;
}

/** Envoy `hashKey()`: the hostname when configured (and set), else `ip:port`. */
export function hashKeyOf(host: Host, useHostname: boolean): string {
  return useHostname && host.hostname !== '' ? host.hostname : host.key;
}

/** An immutable ring; exported for tests (ring size, entry order). */
export class Ring implements HostPicker {
  /** Ring entries' hash high halves, sorted together with {@link lo}. */
  readonly hi: Uint32Array;
  /** Ring entries' hash low halves. */
  readonly lo: Uint32Array;
  /** Host of each ring entry. */
  readonly hosts: Host[];

  constructor(hosts: readonly Host[], config: RingHashConfig, opts: LbBuildOptions) {
    let sum = 0;
    for (const h of hosts) sum += h.weight;
    let minW = 1;
    for (const h of hosts) minW = Math.min(minW, h.weight / sum);
    const scale = Math.min(Math.ceil(minW * config.minimumRingSize) / minW, config.maximumRingSize);
    const ringSize = Math.ceil(scale);
    const hashes = new BigUint64Array(ringSize + hosts.length);
    const owner: Host[] = [];
    let current = 0;
    let target = 0;
    let n = 0;
    for (const host of hosts) {
      const key = hashKeyOf(host, config.useHostnameForHashing) + '_';
      target += scale * (host.weight / sum);
      for (let i = 0; current < target; i++, current++) {
        hashes[n++] = opts.xxhash64(key + i, 0);
        owner.push(host);
      }
    }
    const order = Array.from({ length: n }, (_, i) => i);
    order.sort((a, b) => (hashes[a] < hashes[b] ? -1 : hashes[a] > hashes[b] ? 1 : 0));
    this.hi = new Uint32Array(n);
    this.lo = new Uint32Array(n);
    this.hosts = new Array<Host>(n);
    for (let i = 0; i < n; i++) {
      const h = hashes[order[i]];
      this.hi[i] = Number(h >> 32n);
      this.lo[i] = Number(h & 0xffff_ffffn);
      this.hosts[i] = owner[order[i]];
    }
    this.random = opts.random;
  }

  private readonly random: () => number;

  chooseHost(ctx: LbContext | undefined): Host | null {
    const n = this.hosts.length;
    if (n === 0) return null;
    readHash(ctx, this.random);
    const hHi = lastHashHi();
    const hLo = lastHashLo();
    const hi = this.hi;
    const lo = this.lo;
    // Lower bound: first entry with hash >= h.
    let a = 0;
    let b = n;
    while (a < b) {
      const m = (a + b) >>> 1;
      if (hi[m] < hHi || (hi[m] === hHi && lo[m] < hLo)) a = m + 1;
      else b = m;
    }
    return this.hosts[a === n ? 0 : a];
  }
}

/** RING_HASH factory. */
export const ringHash: LbFactory<RingHashConfig> = {
  name: 'RING_HASH',
  parseConfig(cluster: Cluster): RingHashConfig {
    const c = cluster.ring_hash_lb_config;
    const path = `clusters[${cluster.name}].ring_hash_lb_config`;
    if (c?.hash_function === 'MURMUR_HASH_2') throw new ConfigError('ring_hash_lb_config.hash_function MURMUR_HASH_2 is not supported (use XX_HASH)', { path });
    const minimumRingSize = c?.minimum_ring_size ?? DEFAULT_MIN_RING_SIZE;
    const maximumRingSize = c?.maximum_ring_size ?? DEFAULT_MAX_RING_SIZE;
    for (const [k, v] of [['minimum_ring_size', minimumRingSize], ['maximum_ring_size', maximumRingSize]] as const) {
      if (!Number.isInteger(v) || v < 1 || v > DEFAULT_MAX_RING_SIZE) throw new ConfigError(`ring_hash_lb_config.${k} must be in [1, ${DEFAULT_MAX_RING_SIZE}], got ${v}`, { path });
    }
    if (minimumRingSize > maximumRingSize) throw new ConfigError(`ring hash: minimum_ring_size (${minimumRingSize}) > maximum_ring_size (${maximumRingSize})`, { path });
    return { minimumRingSize, maximumRingSize, useHostnameForHashing: useHostnameForHashing(cluster) };
  },
  build(hosts: readonly Host[], config: RingHashConfig, opts: LbBuildOptions): HostPicker {
    if (hosts.length === 0) return EMPTY_PICKER;
    return new Ring(hosts, config, opts);
  },
};
