/**
 * MAGLEV (Envoy `MaglevTable`, source/extensions/load_balancing_policies/maglev/maglev_lb.cc;
 * Maglev paper §3.4, pseudocode listing 1).
 *
 * Build, as Envoy: hosts sorted by hash key (`ip:port`, or the hostname with
 * `use_hostname_for_hashing`); per host `offset = xxHash64(key) % M`,
 * `skip = xxHash64(key, seed 1) % (M - 1) + 1`, weights normalised to sum 1; hosts take turns
 * filling their next free preferred slot, a host of weight w taking a turn in iteration i only when
 * `i * w >= target` (then `target += maxWeight`), until all M slots are filled. Pick:
 * `table[hash % M]`. `maglev_lb_config.table_size` (default 65537) must be prime, ≤ 5000011.
 * Not implemented: hash_balance_factor, retry attempts, locality weights (`locality_weighted_lb_config`
 * applies to the other policies only).
 */

import { ConfigError } from '../../common/errors';
import type { Cluster } from '../../config/model';
import type { Host } from '../cluster/host';
import { hashKeyOf, useHostnameForHashing } from './ring-hash';
import { EMPTY_PICKER, lastHashHi, lastHashLo, readHash, type HostPicker, type LbBuildOptions, type LbContext, type LbFactory } from './types';

/** Envoy `MaglevTable::DefaultTableSize`. */
export const DEFAULT_TABLE_SIZE = 65537;
/** Largest table size Envoy's proto validation accepts. */
export const MAX_TABLE_SIZE = 5000011;

/** Parsed `maglev_lb_config`. */
export interface MaglevConfig {
  tableSize: number;
  useHostnameForHashing: boolean;
}

function isPrime(n: number): boolean {
  if (n < 2) return false;
  if (n % 2 === 0) return n === 2;
  for (let d = 3; d * d <= n; d += 2) if (n % d === 0) return false;
  return true;
}

/** An immutable Maglev lookup table; exported for tests. */
export class MaglevTable implements HostPicker {
  /** Index into {@link hosts} per slot. */
  readonly table: Int32Array;
  /** Hosts sorted by hash key. */
  readonly hosts: Host[];
  private readonly size: number;
  /** 2^32 mod size, for hash % size from the two halves. */
  private readonly u32Mod: number;
  private readonly random: () => number;

  constructor(input: readonly Host[], config: MaglevConfig, opts: LbBuildOptions) {
    const M = config.tableSize;
    this.size = M;
    this.u32Mod = 0x1_0000_0000 % M;
    this.random = opts.random;
    const keyed = input.map((h) => ({ key: hashKeyOf(h, config.useHostnameForHashing), host: h }));
    keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    this.hosts = keyed.map((k) => k.host);
    const n = keyed.length;
    let sum = 0;
    for (const h of this.hosts) sum += h.weight;
    const weight = new Float64Array(n);
    let maxW = 0;
    for (let i = 0; i < n; i++) {
      weight[i] = this.hosts[i].weight / sum;
      maxW = Math.max(maxW, weight[i]);
    }
    const offset = new Float64Array(n);
    const skip = new Float64Array(n);
    const bigM = BigInt(M);
    for (let i = 0; i < n; i++) {
      offset[i] = Number(opts.xxhash64(keyed[i].key, 0) % bigM);
      skip[i] = Number(opts.xxhash64(keyed[i].key, 1) % (bigM - 1n)) + 1;
    }
    const target = new Float64Array(n);
    const next = new Float64Array(n);
    const table = new Int32Array(M).fill(-1);
    let filled = 0;
    for (let iteration = 1; filled < M; iteration++) {
      for (let i = 0; i < n && filled < M; i++) {
        if (iteration * weight[i] < target[i]) continue;
        target[i] += maxW;
        let c = (offset[i] + skip[i] * next[i]) % M;
        while (table[c] !== -1) {
          next[i]++;
          c = (offset[i] + skip[i] * next[i]) % M;
        }
        table[c] = i;
        next[i]++;
        filled++;
      }
    }
    this.table = table;
  }

  chooseHost(ctx: LbContext | undefined): Host | null {
    readHash(ctx, this.random);
    const m = this.size;
    // (hi·2³² + lo) mod M, exact: M ≤ 5000011 keeps the product below 2⁵³.
    return this.hosts[this.table[((lastHashHi() % m) * this.u32Mod + lastHashLo()) % m]];
  }
}

/** MAGLEV factory. */
export const maglev: LbFactory<MaglevConfig> = {
  name: 'MAGLEV',
  parseConfig(cluster: Cluster): MaglevConfig {
    const tableSize = cluster.maglev_lb_config?.table_size ?? DEFAULT_TABLE_SIZE;
    if (!Number.isInteger(tableSize) || tableSize > MAX_TABLE_SIZE || !isPrime(tableSize)) {
      throw new ConfigError(`The table size of maglev must be prime number <= ${MAX_TABLE_SIZE}, got ${tableSize}`, { path: `clusters[${cluster.name}].maglev_lb_config.table_size` });
    }
    return { tableSize, useHostnameForHashing: useHostnameForHashing(cluster) };
  },
  build(hosts: readonly Host[], config: MaglevConfig, opts: LbBuildOptions): HostPicker {
    if (hosts.length === 0) return EMPTY_PICKER;
    return new MaglevTable(hosts, config, opts);
  },
};
