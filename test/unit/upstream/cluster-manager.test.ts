import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Cluster, ClusterLoadAssignment } from '../../../src/config/model';
import { ClusterManager, validateClusterLb } from '../../../src/upstream/cluster/cluster-manager';
import { computePriorityLoad, groupByPriority } from '../../../src/upstream/cluster/priority-set';
import { Host } from '../../../src/upstream/cluster/host';
import { xxhash64 } from '../../../src/native';
import { cla, ep, seededRandom, staticCluster, tally } from './helpers';

const OPTS = { seed: 0, random: seededRandom(7), xxhash64 };

test('cluster settings: Envoy defaults', () => {
  const cm = new ClusterManager([staticCluster('a', [ep('127.0.0.1', 8080)])], {}, OPTS);
  const c = cm.get('a')!;
  assert.equal(c.name, 'a');
  assert.equal(c.type, 'STATIC');
  assert.equal(c.lbPolicy, 'ROUND_ROBIN');
  assert.equal(c.connectTimeoutMs, 5000);
  assert.equal(c.perConnectionBufferLimitBytes, 1048576);
  assert.equal(c.idleTimeoutMs, 3600000);
  assert.deepEqual(c.circuitBreakers.default, { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 3 });
  assert.equal(c.hosts.length, 1);
  assert.equal(c.hosts[0].key, '127.0.0.1:8080');
  assert.equal(c.hosts[0].weight, 1);
  assert.equal(c.healthyHostCount, 1);
  assert.equal(cm.get('nope'), undefined);
});

test('cluster settings: configured values', () => {
  const cfg = staticCluster('a', [ep('127.0.0.1', 8080)], {
    connect_timeout: '0.25s',
    per_connection_buffer_limit_bytes: 32768,
    circuit_breakers: { thresholds: [{ max_connections: 10, max_retries: 1 }, { priority: 'HIGH', max_requests: 7 }] },
    typed_extension_protocol_options: {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
        common_http_protocol_options: { idle_timeout: '30s' },
      },
    },
  });
  const c = new ClusterManager([cfg], {}, OPTS).get('a')!;
  assert.equal(c.connectTimeoutMs, 250);
  assert.equal(c.perConnectionBufferLimitBytes, 32768);
  assert.deepEqual(c.circuitBreakers.default, { maxConnections: 10, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 1 });
  assert.equal(c.circuitBreakers.high.maxRequests, 7);
  assert.equal(c.idleTimeoutMs, 30000);
  const legacy = new ClusterManager([staticCluster('b', [], { common_http_protocol_options: { idle_timeout: '0s' } })], {}, OPTS).get('b')!;
  assert.equal(legacy.idleTimeoutMs, 0);
});

test('round robin through the cluster alternates over 2 hosts', () => {
  const cm = new ClusterManager([staticCluster('a', [ep('127.0.0.1', 1), ep('127.0.0.1', 2)])], {}, OPTS);
  const seq = Array.from({ length: 4 }, () => cm.get('a')!.chooseHost()!.port);
  assert.deepEqual(seq, [1, 2, 1, 2]);
});

test('unhealthy, draining and timeout hosts are skipped; degraded only as last resort', () => {
  const eps = [
    ep('127.0.0.1', 1, { health_status: 'UNHEALTHY' }),
    ep('127.0.0.1', 2, { health_status: 'HEALTHY' }),
    ep('127.0.0.1', 3, { health_status: 'DRAINING' }),
    ep('127.0.0.1', 4, { health_status: 'TIMEOUT' }),
    ep('127.0.0.1', 5),
  ];
  // Panic disabled: 2 of 5 healthy (40%) would otherwise be below the default 50% threshold.
  const cm = new ClusterManager([staticCluster('a', eps, { common_lb_config: { healthy_panic_threshold: { value: 0 } } })], {}, OPTS);
  const c = cm.get('a')!;
  assert.equal(c.healthyHostCount, 2);
  // 2 of 5 healthy: health = 140*2/5 = 56%; no other level, so it still takes 100% of the load.
  const t = tally(() => c.chooseHost(), 100);
  assert.deepEqual([...t.keys()].sort(), ['127.0.0.1:2', '127.0.0.1:5']);
  assert.equal(t.get('127.0.0.1:2'), 50);

  const onlyDegraded = new ClusterManager([staticCluster('d', [ep('127.0.0.1', 1, { health_status: 'UNHEALTHY' }), ep('127.0.0.1', 9, { health_status: 'DEGRADED' })])], {}, OPTS);
  assert.equal(onlyDegraded.get('d')!.chooseHost()!.port, 9);
});

test('all hosts unhealthy with panic disabled (or no host at all) → null', () => {
  const noPanic = { common_lb_config: { healthy_panic_threshold: { value: 0 } } };
  const cm = new ClusterManager([
    staticCluster('a', [ep('127.0.0.1', 1, { health_status: 'UNHEALTHY' }), ep('127.0.0.1', 2, { health_status: 'DRAINING' })], noPanic),
    staticCluster('empty', []),
  ], {}, OPTS);
  assert.equal(cm.get('a')!.chooseHost(), null);
  assert.equal(cm.get('a')!.healthyHostCount, 0);
  assert.equal(cm.get('empty')!.chooseHost(), null);
});

test('priority load follows Envoy (overprovisioning factor 1.4)', () => {
  const mk = (p: number, healthy: boolean) => {
    const h = new Host('10.0.0.1', 80, '', 1, undefined, p);
    if (!healthy) h.setHealthStatus('UNHEALTHY');
    return h;
  };
  // P0 fully healthy: 100% to P0.
  assert.deepEqual(computePriorityLoad(groupByPriority([mk(0, true), mk(1, true)])).healthy, [100, 0]);
  // P0 with 1 of 2 healthy: 70% to P0, 30% to P1 (arch overview "Priority levels" table).
  assert.deepEqual(computePriorityLoad(groupByPriority([mk(0, true), mk(0, false), mk(1, true)])).healthy, [70, 30]);
  // P0 with 4 of 5 healthy: 112% capped at 100.
  assert.deepEqual(computePriorityLoad(groupByPriority([mk(0, true), mk(0, true), mk(0, true), mk(0, true), mk(0, false), mk(1, true)])).healthy, [100, 0]);
  // P0 all down: P1 gets everything.
  assert.deepEqual(computePriorityLoad(groupByPriority([mk(0, false), mk(1, true)])).healthy, [0, 100]);
  // Both at 20% health (1 of 7 → 140/7 = 20): normalised to 50/50.
  const l = [mk(0, true), ...Array.from({ length: 6 }, () => mk(0, false)), mk(1, true), ...Array.from({ length: 6 }, () => mk(1, false))];
  assert.deepEqual(computePriorityLoad(groupByPriority(l)).healthy, [50, 50]);
});

test('priorities: the cluster spills from P0 to P1 by priority load', () => {
  const assignment: ClusterLoadAssignment = {
    cluster_name: 'a',
    endpoints: [
      { priority: 0, lb_endpoints: [ep('127.0.0.1', 1), ep('127.0.0.1', 2, { health_status: 'UNHEALTHY' })] },
      { priority: 1, lb_endpoints: [ep('127.0.0.1', 3)] },
    ],
  };
  const cm = new ClusterManager([{ name: 'a', type: 'EDS' }], { a: assignment }, OPTS);
  const c = cm.get('a')!;
  assert.deepEqual(c.priorityLoad.healthy, [70, 30]);
  const t = tally(() => c.chooseHost(), 10000);
  const p1 = t.get('127.0.0.1:3')!;
  assert.ok(p1 > 2700 && p1 < 3300, `P1 got ${p1}`);
  assert.equal(t.get('127.0.0.1:2'), undefined);
});

test('endpoints map wins over load_assignment; STATIC falls back to its own', () => {
  const cfg = staticCluster('a', [ep('127.0.0.1', 1)]);
  const cm = new ClusterManager([cfg], { a: cla('a', ep('127.0.0.1', 2)) }, OPTS);
  assert.equal(cm.get('a')!.hosts[0].port, 2);
});

test('updateEndpoints keeps surviving Host objects and returns removed ones', () => {
  const cm = new ClusterManager([{ name: 'a', type: 'EDS' }], { a: cla('a', ep('127.0.0.1', 1), ep('127.0.0.1', 2)) }, OPTS);
  const c = cm.get('a')!;
  const [h1, h2] = c.hosts;
  h1.activeRequests = 3;
  h1.pool = { marker: true };
  const removed = cm.updateEndpoints('a', cla('a', ep('127.0.0.1', 1, { load_balancing_weight: 5 }), ep('127.0.0.1', 3)));
  assert.equal(cm.get('a'), c, 'the cluster object stays for endpoint updates');
  assert.deepEqual(removed, [h2]);
  assert.equal(c.hosts.length, 2);
  assert.equal(c.hosts[0], h1);
  assert.equal(h1.activeRequests, 3);
  assert.deepEqual(h1.pool, { marker: true });
  assert.equal(h1.weight, 5);
  assert.notEqual(c.hosts[1], h2);
  assert.equal(c.hosts[1].port, 3);
  // The new picker only knows the new hosts.
  const t = tally(() => c.chooseHost(), 60);
  assert.deepEqual([...t.keys()].sort(), ['127.0.0.1:1', '127.0.0.1:3']);
  assert.deepEqual(cm.updateEndpoints('nope', cla('nope')), []);
});

test('setHostHealth rebuilds the picker', () => {
  const cm = new ClusterManager([staticCluster('a', [ep('127.0.0.1', 1), ep('127.0.0.1', 2)])], {}, OPTS);
  const c = cm.get('a')!;
  c.setHostHealth(c.hosts[0], 'UNHEALTHY');
  assert.equal(c.healthyHostCount, 1);
  for (let i = 0; i < 5; i++) assert.equal(c.chooseHost()!.port, 2);
  c.setHostHealth(c.hosts[1], 'UNHEALTHY');
  // No healthy host: panic (default threshold 50%), both hosts picked again.
  assert.deepEqual([...tally(() => c.chooseHost(), 4).keys()].sort(), ['127.0.0.1:1', '127.0.0.1:2']);
});

test('update(snapshot): add, modify (Hosts kept), endpoint-only change, remove', () => {
  const a = staticCluster('a', [ep('127.0.0.1', 1), ep('127.0.0.1', 2)]);
  const b = staticCluster('b', [ep('127.0.0.1', 5)]);
  const cm = new ClusterManager([a, b], {}, OPTS);
  const oldA = cm.get('a')!;
  const [a1, a2] = oldA.hosts;
  const b5 = cm.get('b')!.hosts[0];

  const a2cfg = staticCluster('a', [ep('127.0.0.1', 1), ep('127.0.0.1', 3)], { connect_timeout: '1s', lb_policy: 'LEAST_REQUEST' });
  const c = staticCluster('c', [ep('127.0.0.1', 9)]);
  const r = cm.update({ clusters: [a2cfg, structuredClone(b), c], endpoints: {} });
  assert.deepEqual(r.added, ['c']);
  assert.deepEqual(r.modified, ['a']);
  assert.deepEqual(r.removed, []);
  assert.deepEqual(r.endpointsUpdated, []);
  assert.deepEqual(r.removedHosts, [a2]);
  const newA = cm.get('a')!;
  assert.notEqual(newA, oldA);
  assert.equal(newA.connectTimeoutMs, 1000);
  assert.equal(newA.lbPolicy, 'LEAST_REQUEST');
  assert.equal(newA.hosts[0], a1);
  assert.equal(cm.get('b')!.hosts[0], b5, 'unchanged cluster untouched');

  const r2 = cm.update({ clusters: [a2cfg, c], endpoints: { c: cla('c', ep('127.0.0.1', 10)) } });
  assert.deepEqual(r2.removed, ['b']);
  assert.deepEqual(r2.endpointsUpdated, ['c']);
  assert.deepEqual(r2.removedHosts.map((h) => h.key).sort(), ['127.0.0.1:5', '127.0.0.1:9']);
  assert.equal(cm.get('b'), undefined);
  assert.deepEqual([...cm.names()].sort(), ['a', 'c']);
});

test('ring hash cluster with the src/native xxhash64 default', () => {
  const cfg: Cluster = staticCluster('r', [ep('127.0.0.1', 1), ep('127.0.0.1', 2), ep('127.0.0.1', 3)], { lb_policy: 'RING_HASH' });
  const native = new ClusterManager([cfg], {}, { seed: 0 }).get('r')!;
  const ref = new ClusterManager([cfg], {}, OPTS).get('r')!;
  for (let i = 0; i < 200; i++) {
    const hash = xxhash64(`k${i}`);
    const h = native.chooseHost({ hash })!;
    assert.equal(h, native.chooseHost({ hash }));
    assert.equal(h.key, ref.chooseHost({ hash })!.key);
  }
});

test('invalid LB config is a ConfigError at build and in validateClusterLb', () => {
  const bad: Cluster = { name: 'm', lb_policy: 'MAGLEV', maglev_lb_config: { table_size: 100 } };
  assert.throws(() => new ClusterManager([bad]), /prime/);
  assert.throws(() => validateClusterLb(bad), /prime/);
  assert.throws(() => validateClusterLb({ name: 'x', lb_policy: 'LOAD_BALANCING_POLICY_CONFIG' }), /unsupported/);
  validateClusterLb({ name: 'ok', lb_policy: 'LEAST_REQUEST' });
});

test('DRAINING hosts are excluded (Envoy: EDS_STATUS_DRAINING): 1 healthy + 2 draining is not a panic, all picks go to the healthy one', () => {
  const cm = new ClusterManager([staticCluster('d', [ep('127.0.0.1', 1), ep('127.0.0.1', 2, { health_status: 'DRAINING' }), ep('127.0.0.1', 3, { health_status: 'DRAINING' })])], {}, OPTS);
  const t = tally(() => cm.get('d')!.chooseHost(), 30);
  assert.deepEqual([...t.entries()], [['127.0.0.1:1', 30]]);
});
