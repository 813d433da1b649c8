/**
 * Micro-benchmark: host picks per second through `ThreadLocalCluster.chooseHost()` for every LB
 * policy, with 3 and 100 equally weighted hosts, plus weighted round robin (EDF) and, for the
 * hashing LBs, the hash passed as a bigint vs as two u32 halves. Also the one-off cost of building
 * a ring (1024 entries) and a Maglev table (65537 slots) with 100 hosts.
 * Run: `node dist/bench/micro/lb-pick.js`.
 */

import type { Cluster, LbEndpoint } from '../../src/config/model';
import { xxhash64, ready } from '../../src/native';
import { ClusterManager } from '../../src/upstream/cluster/cluster-manager';
import type { LbContext } from '../../src/upstream/lb/types';
import { measure, type BenchResult } from './measure';

export type { BenchResult };

function endpoints(n: number, weighted: boolean): LbEndpoint[] {
  return Array.from({ length: n }, (_, i) => ({
    endpoint: { address: { socket_address: { address: `10.0.${i >> 8}.${i & 255}`, port_value: 8080 } } },
    load_balancing_weight: weighted ? 1 + (i % 4) : 1,
  }));
}

function cluster(name: string, policy: NonNullable<Cluster['lb_policy']>, n: number, weighted = false): Cluster {
  return { name, type: 'STATIC', lb_policy: policy, load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: endpoints(n, weighted) }] } };
}

/** Runs every scenario and returns the results. */
export function runLbPickBench(iterations = 1_000_000, rounds = 7): BenchResult[] {
  const results: BenchResult[] = [];
  const hashes: bigint[] = Array.from({ length: 1024 }, (_, i) => xxhash64(`request-${i}`));
  const halves = hashes.map((h) => ({ hashHi: Number(h >> 32n), hashLo: Number(h & 0xffffffffn) }));
  const bigCtx = hashes.map((hash) => ({ hash }));
  let sink = 0;

  for (const n of [3, 100]) {
    const scenarios: Array<[string, Cluster, LbContext[] | undefined]> = [
      ['ROUND_ROBIN', cluster('rr', 'ROUND_ROBIN', n), undefined],
      ['ROUND_ROBIN weighted (EDF)', cluster('wrr', 'ROUND_ROBIN', n, true), undefined],
      ['LEAST_REQUEST (2 choices)', cluster('lr', 'LEAST_REQUEST', n), undefined],
      ['LEAST_REQUEST weighted (EDF)', cluster('wlr', 'LEAST_REQUEST', n, true), undefined],
      ['RANDOM', cluster('rnd', 'RANDOM', n), undefined],
      ['RING_HASH, hash as bigint', cluster('ring', 'RING_HASH', n), bigCtx],
      ['RING_HASH, hash as u32 halves', cluster('ring', 'RING_HASH', n), halves],
      ['MAGLEV, hash as bigint', cluster('mag', 'MAGLEV', n), bigCtx],
      ['MAGLEV, hash as u32 halves', cluster('mag', 'MAGLEV', n), halves],
    ];
    for (const [label, cfg, ctxs] of scenarios) {
      const c = new ClusterManager([cfg]).get(cfg.name)!;
      results.push(measure(`${label}, ${n} hosts`, iterations, rounds, () => {
        if (ctxs === undefined) {
          for (let i = 0; i < iterations; i++) sink += c.chooseHost()!.port;
        } else {
          for (let i = 0; i < iterations; i++) sink += c.chooseHost(ctxs[i & 1023])!.port;
        }
      }));
    }
  }

  const ring = cluster('ring', 'RING_HASH', 100);
  results.push(measure('build RING_HASH (100 hosts, 1024+ entries)', 20, 5, () => {
    for (let i = 0; i < 20; i++) sink += new ClusterManager([ring]).get('ring')!.hosts.length;
  }));
  const mag = cluster('mag', 'MAGLEV', 100);
  results.push(measure('build MAGLEV (100 hosts, 65537 slots)', 20, 5, () => {
    for (let i = 0; i < 20; i++) sink += new ClusterManager([mag]).get('mag')!.hosts.length;
  }));
  if (sink === 0) throw new Error('unreachable');
  return results;
}

if (require.main === module) {
  void ready.then(() => {
    for (const r of runLbPickBench()) {
      const unit = r.bestPerSec >= 1e4 ? `${(r.bestPerSec / 1e6).toFixed(2)} M/s` : `${r.bestPerSec.toFixed(1)} /s`;
      const med = r.medianPerSec >= 1e4 ? `${(r.medianPerSec / 1e6).toFixed(2)} M/s` : `${r.medianPerSec.toFixed(1)} /s`;
      console.log(`${r.name.padEnd(48)} best ${unit.padStart(10)}   median ${med.padStart(10)}`);
    }
  });
}
