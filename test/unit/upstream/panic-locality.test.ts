/**
 * Panic threshold (Envoy load_balancer_impl.cc recalculatePerPriorityPanic / isHostSetInPanic /
 * recalculateLoadInTotalPanic; arch overview "Panic threshold") and locality weighted load
 * balancing (HostSetImpl::effectiveLocalityWeight + EDF; arch overview "Locality weighted load
 * balancing") through the cluster manager, for every LB policy.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Cluster, ClusterLoadAssignment, LbEndpoint } from '../../../src/config/model';
import { ClusterManager, validateClusterLb } from '../../../src/upstream/cluster/cluster-manager';
import { computePriorityState, groupByPriority } from '../../../src/upstream/cluster/priority-set';
import { Host } from '../../../src/upstream/cluster/host';
import { xxhash64 } from '../../../src/native';
import { createJsHasher } from '../../../src/native/hasher';
import { ep, seededRandom, staticCluster, tally } from './helpers';

const POLICIES = ['ROUND_ROBIN', 'LEAST_REQUEST', 'RANDOM', 'RING_HASH', 'MAGLEV'] as const;
const DOWN: Partial<LbEndpoint> = { health_status: 'UNHEALTHY' };

function mk(p: number, healthy: boolean): Host {
  const h = new Host('10.0.0.1', 80, '', 1, undefined, p);
  if (!healthy) h.setHealthStatus('UNHEALTHY');
  return h;
}
const level = (p: number, up: number, down: number): Host[] => [...Array.from({ length: up }, () => mk(p, true)), ...Array.from({ length: down }, () => mk(p, false))];

test('computePriorityState: panic per level and total panic load by host count', () => {
  // One level, 1 of 4 healthy (25% < 50%): total panic, all load to P0.
  let s = computePriorityState(groupByPriority(level(0, 1, 3)));
  assert.deepEqual(s.panic, [true]);
  assert.deepEqual(s.load.healthy, [100]);
  // Threshold 0 disables panic.
  s = computePriorityState(groupByPriority(level(0, 1, 3)), 140, 0);
  assert.deepEqual(s.panic, [false]);
  // 2 of 4 healthy (50%) is not below 50%.
  assert.deepEqual(computePriorityState(groupByPriority(level(0, 2, 2))).panic, [false]);
  // Normalized total availability 100 (P1 fully healthy): never panic, even for a weak P0.
  s = computePriorityState(groupByPriority([...level(0, 1, 9), ...level(1, 2, 0)]));
  assert.deepEqual(s.panic, [false, false]);
  assert.deepEqual(s.load.healthy, [14, 86]);
  // P0 1/10 (health 14) + P1 3/5 (health 84) = 98 < 100: P0 panics, P1 does not; loads unchanged.
  s = computePriorityState(groupByPriority([...level(0, 1, 9), ...level(1, 3, 2)]));
  assert.deepEqual(s.panic, [true, false]);
  assert.deepEqual(s.load.healthy, [15, 85]);
  // Both levels in panic: load by host count (2 and 3 hosts → 40/60).
  s = computePriorityState(groupByPriority([...level(0, 0, 2), ...level(1, 1, 2)]));
  assert.deepEqual(s.panic, [true, true]);
  assert.deepEqual(s.load.healthy, [40, 60]);
  assert.deepEqual(s.load.degraded, [0, 0]);
  // Nothing healthy, panic disabled: 100% to P0 (whose pick then fails).
  s = computePriorityState(groupByPriority([...level(0, 0, 2), ...level(1, 0, 2)]), 140, 0);
  assert.deepEqual(s.load.healthy, [100, 0]);
});

function cluster(policy: string, eps: LbEndpoint[], commonLb?: Record<string, unknown>): Cluster {
  return staticCluster('c', eps, { lb_policy: policy as Cluster['lb_policy'], ...(commonLb ? { common_lb_config: commonLb } : {}) });
}

for (const policy of POLICIES) {
  test(`${policy}: 1 healthy host of 4 → panic picks among all 4, counted in lb_healthy_panic`, () => {
    const eps = [ep('127.0.0.1', 1), ep('127.0.0.1', 2, DOWN), ep('127.0.0.1', 3, DOWN), ep('127.0.0.1', 4, DOWN)];
    const c = new ClusterManager([cluster(policy, eps)], {}, { seed: 0, random: seededRandom(3), xxhash64 }).get('c')!;
    let counted = 0;
    c.lbHealthyPanicCounter = { inc: () => counted++ };
    const t = tally(() => c.chooseHost(), 400);
    assert.deepEqual([...t.keys()].sort(), ['127.0.0.1:1', '127.0.0.1:2', '127.0.0.1:3', '127.0.0.1:4']);
    assert.equal(c.lbHealthyPanic, 400);
    assert.equal(counted, 400);

    // Panic disabled: only the healthy host, nothing counted.
    const off = new ClusterManager([cluster(policy, eps, { healthy_panic_threshold: { value: 0 } })], {}, { seed: 0, random: seededRandom(3), xxhash64 }).get('c')!;
    assert.deepEqual([...tally(() => off.chooseHost(), 50).keys()], ['127.0.0.1:1']);
    assert.equal(off.lbHealthyPanic, 0);

    // A threshold of 20%: 25% healthy is not panic.
    const low = new ClusterManager([cluster(policy, eps, { healthy_panic_threshold: { value: 20 } })], {}, { seed: 0, random: seededRandom(3), xxhash64 }).get('c')!;
    assert.deepEqual([...tally(() => low.chooseHost(), 50).keys()], ['127.0.0.1:1']);

    // No healthy host at all: panic over every host instead of null (503 UH).
    const none = new ClusterManager([cluster(policy, eps.map((e) => ({ ...e, ...DOWN })))], {}, { seed: 0, random: seededRandom(3), xxhash64 }).get('c')!;
    assert.equal(tally(() => none.chooseHost(), 400).size, 4);
  });
}

test('priorities in total panic: P0 and P1 share the load by host count', () => {
  const assignment: ClusterLoadAssignment = {
    cluster_name: 'a',
    endpoints: [
      { priority: 0, lb_endpoints: [ep('127.0.0.1', 1, DOWN)] },
      { priority: 1, lb_endpoints: [ep('127.0.0.1', 2, DOWN), ep('127.0.0.1', 3, DOWN), ep('127.0.0.1', 4, DOWN)] },
    ],
  };
  const c = new ClusterManager([{ name: 'a', type: 'EDS' }], { a: assignment }, { seed: 0, random: seededRandom(9), xxhash64 }).get('a')!;
  assert.deepEqual(c.priorityLoad.healthy, [25, 75]);
  const t = tally(() => c.chooseHost(), 8000);
  const p0 = t.get('127.0.0.1:1')!;
  assert.ok(p0 > 1700 && p0 < 2300, `P0 got ${p0}`);
});

for (const policy of ['RING_HASH', 'MAGLEV']) {
  test(`${policy} in panic: the JS and native/wasm xxHash64 pick the same hosts`, () => {
    const eps = [ep('127.0.0.1', 1), ep('127.0.0.1', 2, DOWN), ep('127.0.0.1', 3, DOWN), ep('127.0.0.1', 4, DOWN)];
    const js = createJsHasher();
    const a = new ClusterManager([cluster(policy, eps)], {}, { seed: 0, random: seededRandom(1), xxhash64 }).get('c')!;
    const b = new ClusterManager([cluster(policy, eps)], {}, { seed: 0, random: seededRandom(1), xxhash64: (d, s) => js.xxhash64(d, s) }).get('c')!;
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const hash = xxhash64(`req-${i}`);
      const ha = a.chooseHost({ hash })!;
      assert.equal(ha.key, b.chooseHost({ hash })!.key);
      seen.add(ha.key);
    }
    assert.equal(seen.size, 4);
  });
}

/** Two localities of two hosts each with locality weights 1 and 3. */
function localityAssignment(down: Partial<LbEndpoint> = {}): ClusterLoadAssignment {
  return {
    cluster_name: 'c',
    endpoints: [
      { locality: { zone: 'a' }, load_balancing_weight: 1, lb_endpoints: [ep('127.0.0.1', 1), ep('127.0.0.1', 2)] },
      { locality: { zone: 'b' }, load_balancing_weight: 3, lb_endpoints: [ep('127.0.0.1', 3), ep('127.0.0.1', 4, down)] },
    ],
  };
}
const zoneOf = (t: Map<string, number>): [number, number] => [(t.get('127.0.0.1:1') ?? 0) + (t.get('127.0.0.1:2') ?? 0), (t.get('127.0.0.1:3') ?? 0) + (t.get('127.0.0.1:4') ?? 0)];

for (const policy of ['ROUND_ROBIN', 'LEAST_REQUEST', 'RANDOM']) {
  test(`${policy} with locality_weighted_lb_config: localities of weight 1 and 3 get 1:3`, () => {
    const cfg: Cluster = { name: 'c', type: 'EDS', lb_policy: policy as Cluster['lb_policy'], common_lb_config: { locality_weighted_lb_config: {} } };
    const c = new ClusterManager([cfg], { c: localityAssignment() }, { seed: 0, random: seededRandom(5), xxhash64 }).get('c')!;
    const t = tally(() => c.chooseHost(), 400);
    assert.deepEqual(zoneOf(t), [100, 300]);
    assert.equal(t.size, 4);

    // Without locality_weighted_lb_config the locality weights are ignored (4 equal hosts).
    const plain = new ClusterManager([{ ...cfg, common_lb_config: undefined }], { c: localityAssignment() }, { seed: 0, random: seededRandom(5), xxhash64 }).get('c')!;
    const [za, zb] = zoneOf(tally(() => plain.chooseHost(), 400));
    assert.ok(za > 150 && zb > 150, `${za}:${zb}`);
  });
}

test('locality weights: effective weight = weight × min(1, 1.4 × healthy fraction); unweighted localities get nothing', () => {
  const cfg: Cluster = { name: 'c', type: 'EDS', common_lb_config: { locality_weighted_lb_config: {} } };
  // Zone b: 1 of 2 healthy → 3 × min(1, 0.7) = 2.1 against zone a's 1.
  const c = new ClusterManager([cfg], { c: localityAssignment(DOWN) }, { seed: 0, random: seededRandom(5), xxhash64 }).get('c')!;
  const t = tally(() => c.chooseHost(), 310);
  assert.deepEqual(zoneOf(t), [100, 210]);
  assert.equal(t.get('127.0.0.1:4'), undefined);
  // A locality without load_balancing_weight is never picked.
  const cla = localityAssignment();
  delete cla.endpoints![0].load_balancing_weight;
  const u = new ClusterManager([cfg], { c: cla }, { seed: 0, random: seededRandom(5), xxhash64 }).get('c')!;
  assert.deepEqual(zoneOf(tally(() => u.chooseHost(), 40)), [0, 40]);
});

test('healthy_panic_threshold out of range is a ConfigError naming the field', () => {
  assert.throws(() => validateClusterLb(cluster('ROUND_ROBIN', [], { healthy_panic_threshold: { value: 101 } })), /healthy_panic_threshold/);
  assert.doesNotThrow(() => validateClusterLb(cluster('ROUND_ROBIN', [], { healthy_panic_threshold: { value: 12.5 } })));
});
