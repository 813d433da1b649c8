/**
 * Load-balancer interfaces. Each policy (one file per policy) is a factory: `parseConfig` once per
 * cluster config, `build(hosts, config, opts)` once per host-set change, producing an immutable
 * {@link HostPicker} that the cluster swaps whole (pingora's selector rebuild; Envoy's
 * `LoadBalancerFactory::create` per worker). `chooseHost` runs per request: no allocation, no
 * throw.
 *
 * Pickers see one flat host list (one priority level's healthy or degraded hosts, all its hosts in
 * panic mode, or one locality's with locality weighted balancing); priority, panic and locality
 * selection are done above them by the cluster (src/upstream/cluster/priority-set.ts).
 */

import type { Cluster } from '../../config/model';
import type { Host } from '../cluster/host';

/**
 * Per-request input to host selection (Envoy `LoadBalancerContext`).
 * - `hash`: the request's 64-bit hash from the route's hash_policy (xxHash64), for RING_HASH and
 *   MAGLEV. Alternatively `hashHi`/`hashLo` (the two unsigned 32-bit halves), which avoids BigInt
 *   work when the hasher returns halves; they win over `hash` when `hashLo` is set.
 *   Without a hash, the hashing LBs pick with a random hash (Envoy does the same).
 * - `random`: a [0,1) source for this pick (tests); default the cluster manager's.
 */
export interface LbContext {
  hash?: bigint;
  hashHi?: number;
  hashLo?: number;
  random?: () => number;
}

/** Immutable host selector over a fixed host list; mutable cursor state (RR index, EDF) only. */
export interface HostPicker {
  /** @returns a host, or null when the list is empty. Never throws. */
  chooseHost(ctx: LbContext | undefined): Host | null;
}

/** xxHash64 of a string (UTF-8) with a seed, as a u64 BigInt (src/native `xxhash64`). */
export type Hash64Fn = (data: string, seed?: number) => bigint;

/** Options every build receives from the cluster manager. */
export interface LbBuildOptions {
  /**
   * Per-worker seed (Envoy `EdfLoadBalancerBase::seed_`, a random u32 per LB instance): the round
   * robin start index and the number of EDF pre-picks. 0 starts at the first host (tests).
   */
  seed: number;
  /** Default [0,1) source when the context brings none. */
  random: () => number;
  /** The picker this build replaces (same policy), to carry the round-robin cursor over. */
  previous?: HostPicker;
  /** Hash function for RING_HASH / MAGLEV tables. */
  xxhash64: Hash64Fn;
}

/** A load-balancing policy: `Cluster.lb_policy` value → parser + builder. */
export interface LbFactory<C = unknown> {
  /** `Cluster.lb_policy` enum name (ROUND_ROBIN, LEAST_REQUEST, RANDOM, RING_HASH, MAGLEV). */
  readonly name: string;
  /**
   * Reads the policy's config from the cluster (`least_request_lb_config`, ...) with Envoy's
   * defaults. @throws ConfigError on values Envoy rejects.
   */
  parseConfig(cluster: Cluster): C;
  /** Builds a picker over `hosts` (already filtered to the ones that may be picked). */
  build(hosts: readonly Host[], config: C, opts: LbBuildOptions): HostPicker;
}

/** A picker over no hosts. */
export const EMPTY_PICKER: HostPicker = { chooseHost: () => null };

/** True when every host has the same weight (Envoy `hostWeightsAreEqual`). */
export function weightsAreEqual(hosts: readonly Host[]): boolean {
  if (hosts.length <= 1) return true;
  const w = hosts[0].weight;
  for (let i = 1; i < hosts.length; i++) if (hosts[i].weight !== w) return false;
  return true;
}

// Scratch output of readHash(): the two halves of the request hash (no allocation per pick).
let hashHi = 0;
let hashLo = 0;
/** High 32 bits of the last {@link readHash}. */
export function lastHashHi(): number {
  return hashHi;
}
/** Low 32 bits of the last {@link readHash}. */
export function lastHashLo(): number {
  return hashLo;
}

const U32 = 0x1_0000_0000;
/**
 * Loads the request hash (or a random one) into the scratch halves read by {@link lastHashHi} /
 * {@link lastHashLo}.
 */
export function readHash(ctx: LbContext | undefined, random: () => number): void {
  if (ctx !== undefined) {
    if (ctx.hashLo !== undefined) {
      hashHi = (ctx.hashHi ?? 0) >>> 0;
      hashLo = ctx.hashLo >>> 0;
      return;
    }
    if (ctx.hash !== undefined) {
      const h = ctx.hash;
      hashHi = Number(BigInt.asUintN(32, h >> 32n));
      hashLo = Number(BigInt.asUintN(32, h));
      return;
    }
    random = ctx.random ?? random;
  }
  hashHi = Math.floor(random() * U32) >>> 0;
  hashLo = Math.floor(random() * U32) >>> 0;
}

/** (hi·2³² + lo) mod m, exact for m ≤ 2²⁶ (doubles stay below 2⁵³). */
export function mod64(hi: number, lo: number, m: number): number {
  return ((hi % m) * (U32 % m) + lo) % m;
}
