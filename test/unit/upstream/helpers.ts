/** Builders for LB and cluster tests. */
import type { Cluster, ClusterLoadAssignment, LbEndpoint } from '../../../src/config/model';
import { Host } from '../../../src/upstream/cluster/host';
import type { LbBuildOptions } from '../../../src/upstream/lb/types';
import { xxhash64 } from '../../../src/native';
import { seededRandom } from '../seeded-random';
export { seededRandom };

/** Hosts 10.0.0.1:80 ... with the given weights. */
export function hosts(...weights: number[]): Host[] {
  return weights.map((w, i) => new Host(`10.0.0.${i + 1}`, 80, '', w));
}

/** N equal-weight hosts. */
export function nHosts(n: number): Host[] {
  return Array.from({ length: n }, (_, i) => new Host(`10.0.${i >> 8}.${i & 255}`, 8080));
}

/** Build options with seed 0 and a seeded random. */
export function opts(over: Partial<LbBuildOptions> = {}): LbBuildOptions {
  return { seed: 0, random: seededRandom(42), xxhash64, ...over };
}

/** Counts picks per host key. */
export function tally(pick: () => Host | null, n: number): Map<string, number> {
  const m = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const h = pick();
    const k = h === null ? 'null' : h.key;
    m.set(k, (m.get(k) ?? 0) + 1);
  }
  return m;
}

/** One lb_endpoint. */
export function ep(address: string, port: number, extra: Partial<LbEndpoint> = {}): LbEndpoint {
  return { endpoint: { address: { socket_address: { address, port_value: port } } }, ...extra };
}

/** A ClusterLoadAssignment with one priority-0 locality. */
export function cla(name: string, ...eps: LbEndpoint[]): ClusterLoadAssignment {
  return { cluster_name: name, endpoints: [{ lb_endpoints: eps }] };
}

/** A STATIC cluster. */
export function staticCluster(name: string, eps: LbEndpoint[], extra: Partial<Cluster> = {}): Cluster {
  return { name, type: 'STATIC', load_assignment: cla(name, ...eps), ...extra };
}
